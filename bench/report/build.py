"""Rebuild summary.csv, tables/, plots/ and report.md from a results folder, no training."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.config.suite_config import SuiteConfig
from bench.core.atomic import write_text_atomic
from bench.core.errors import BenchError
from bench.core.outputs import TRAIN_SECONDS, curve_outputs
from bench.core.results import diverged, recipe_runs
from bench.core.specs import RECIPE_PHASE, TOY_ARCH, Budget
from bench.data import get_dataset
from bench.report import plots
from bench.report.claims_section import claims_section
from bench.report.plots import LeftOut
from bench.report.render import FigurePool, PendingFigure, finished
from bench.report.study_section import study_section
from bench.report.summary import build_summary, recipe_results
from bench.report.tables import (
    INTERVALS_CAPTION,
    cell_statistics,
    divergence_table,
    frame_to_markdown,
    markdown_table,
)
from bench.storage.rounds import Rounds
from bench.storage.run_files import load_config, load_provenance, load_rounds
from bench.storage.store import ResultsStore
from gan_zoo.recipes import batches_members


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False))


def _provenance(store: ResultsStore) -> dict:
    dirs = store.run_dirs()
    return load_provenance(dirs[0]) if dirs else {}


def _speed_ups(store: ResultsStore) -> list[str]:
    """Setup lines saying which speed-ups the runs trained with and what fell back."""
    plans = [load_provenance(d).get("acceleration") for d in store.run_dirs()]
    plans = [p for p in plans if p]  # folders written before speed-ups were recorded
    if not plans:
        return []
    compiled = Counter("+".join(p["compile"]) or "none" for p in plans)
    line = ("- Speed-ups: torch.compile "
            + ", ".join(f"{name} ({n} runs)" for name, n in sorted(compiled.items()))
            + f"; CUDA graphs {sum(p['cuda_graphs'] for p in plans)} of {len(plans)} runs; "
            f"channels_last {sum(p['channels_last'] for p in plans)} of {len(plans)} runs; "
            # folders trained before the fused step recorded no "fused": autograd
            f"fused MLP step {sum(p.get('fused', False) for p in plans)} of {len(plans)} runs "
            "(the others: autograd).")
    notes = sorted({note for p in plans for note in p["notes"]})
    return [line] + [f"  - {note}" for note in notes]


def _figures(pool: FigurePool, store: ResultsStore, summary: pd.DataFrame,
             metrics: pd.DataFrame, datasets: list[str]) -> list[PendingFigure]:
    """Every figure of the report's Plots section, drawing in ``pool``."""
    folder = store.root / "plots"
    figures = []
    recorded = set(metrics["metric"])
    for declared in (o for o in curve_outputs() if o.name in recorded):
        curve = declared.curve
        figures.append(pool.draw(f"{curve.title} vs generator step", plots.metric_curves,
                                 metrics, declared.name, "step",
                                 folder / f"{curve.stem}_vs_step.png"))
        if curve.vs_time:
            figures.append(pool.draw(f"{curve.title} vs training wall-clock",
                                     plots.metric_curves, metrics, declared.name,
                                     TRAIN_SECONDS, folder / f"{curve.stem}_vs_time.png"))
    figures += [
        pool.draw("Final metrics with 95% CIs", plots.final_metrics_plot, summary,
                  folder / "final_metrics.png"),
    ]
    for dataset in datasets:
        path = folder / f"samples_{dataset}.png"
        if get_dataset(dataset).is_points:
            figures.append(pool.draw(f"Samples and critic: {dataset}", plots.samples_plot,
                                     store, summary, dataset, path))
        else:
            figures.append(pool.draw(f"Final generated images: {dataset}",
                                     plots.image_grids_plot, store, summary, dataset, path))
    return figures


def build_report(root: Path, workers: int | None = None,
                 progress: Callable[[str], None] | None = None) -> Path:
    """Write every report artefact of the suite in ``root``; returns the report's path.
    Figures draw in ``workers`` processes beside this one (``bench.report.render``; default
    one per further core, 0 draws them all here), the same files either way. ``progress``
    hears of each stage and figure (a report takes a minute or more: no silent minute)."""
    say = progress or (lambda _: None)
    store = ResultsStore(root)
    config = store.verify()  # before anything is read or written: a refusal writes nothing
    say("summary and tables")
    every_run = build_summary(store)
    if every_run.empty:
        raise BenchError(f"{root} holds no finished runs yet; run the suite first")
    root = store.root
    _csv(every_run, root / "summary.csv")
    # the tables, plots and claims compare the paper recipes; a study's trials and reruns
    # have their own section
    summary, metrics = recipe_results(store, every_run)
    _csv(cell_statistics(summary), root / "tables" / "cells.csv")
    divergence = divergence_table(summary)
    _csv(divergence, root / "tables" / "divergence.csv")
    datasets = [d for d in config.datasets if d in set(summary["dataset"])]
    for dataset in datasets:
        write_text_atomic(root / "tables" / f"{dataset}.md", markdown_table(summary, dataset))

    rounds = load_rounds(root)
    # under --until-decided each check is judged at its last look's level (bench.storage.rounds)
    level_of = None if rounds is None else rounds.levels(
        {cell: len(config.seeds_of(cell)) for cell in config.cell_keys()})
    with FigurePool(workers) as pool:
        pending = _figures(pool, store, summary, metrics, datasets)
        # judges the claims while the figures draw; also writes claims.csv
        say(f"the claims and their figures, while {len(pending)} figures draw")
        claims = claims_section(root, config, summary, metrics, pool, level_of)
        figures = finished(pending, say)
    claims = _rounds_lines(rounds) + claims if rounds is not None else claims
    say("the study section and report.md")
    claims += study_section(root, config, every_run)
    text = _markdown(config, every_run, divergence, datasets, figures, _provenance(store),
                     _speed_ups(store), _run_settings(store, set(every_run["run_id"])), root,
                     claims)
    path = root / "report.md"
    write_text_atomic(path, text)
    return path


def _rounds_lines(rounds: Rounds) -> list[str]:
    """The rounds of ``run --until-decided``: what each added, and the verdicts after it."""
    d = rounds.design
    lines = ["## Rounds (`run --until-decided`)", "",
             f"Seeds were added {d.seed_step} at a time to the cells an undecided check "
             f"needed, up to {d.max_seeds} per cell. Each check is judged at its own look's "
             "level of a group-sequential design (Lan-DeMets alpha spending, O'Brien-Fleming "
             f"shape, overall alpha {rounds.alpha:g}; its information fraction: its cells' "
             f"fewest seeds / {d.max_seeds}), so looking again after each round does not "
             "inflate false verdicts; the claims below are judged at each check's last "
             "look. The level column is that of a check that got every round's seeds.", "",
             "| look | level | seeds added | verdicts after it | checks undecided |",
             "|---|---|---|---|---|"]
    for r in rounds.rounds:
        added = "; ".join(f"{cell}: {', '.join(map(str, seeds))}"
                          for cell, seeds in r.added.items()) or "the planned seeds"
        verdicts = ", ".join(f"{claim} {verdict}" for claim, verdict in r.verdicts.items())
        lines.append(f"| {r.look} | {r.level:.3g} | {added} | {verdicts} | {r.undecided} |")
    return [*lines, ""]


def _networks(run: dict) -> str:
    """What trained, from a run's stored config: the MLPs for 2-D data, or the image
    architecture."""
    if run["arch"] == TOY_ARCH:
        m = run["model"]
        return f"2-D data: MLPs {m['depth']} x {m['width']} ReLU, latent {m['latent_dim']}"
    im = run["image_model"]
    return (f"images: {run['arch']} ({im['filters']} filters, latent {im['latent_dim']}, "
            f"critic norm {im['critic_norm']})")


def _budget(run: dict) -> str:
    """The budget and what it matches: updates (an extragradient update computes two
    gradients, so its runs compute more), gradient evaluations, or time."""
    budget = Budget(run["budget"]["kind"], run["budget"]["amount"])
    return f"{budget} (matches {budget.matches})"


def _run_settings(store: ResultsStore, run_ids: set[str]) -> dict[str, dict[str, int]]:
    """What the runs themselves recorded in their configs (not what suite.yaml says now):
    setting -> value -> number of runs, for the generator protocol, metric protocols,
    budget, batch size and networks."""
    found: dict[str, dict[str, int]] = {key: {} for key in (
        "generator", "metrics", "budget", "batch", "networks", "rates")}

    def count(key: str, value: str) -> None:
        found[key][value] = found[key].get(value, 0) + 1

    for run_dir in store.run_dirs():
        if run_dir.name not in run_ids:
            continue
        run = load_config(run_dir)
        evaluation = run.get("evaluation", {})
        count("generator", evaluation.get("generator", "not recorded"))
        for protocol in set(evaluation.get("metrics", {}).values()):
            count("metrics", protocol)
        count("budget", _budget(run))
        count("batch", str(run["batch_size"]))
        count("networks", _networks(run))
        if (run.get("study") or {}).get("phase", RECIPE_PHASE) == RECIPE_PHASE:
            count("rates", _rates(run))
    return found


def _rates(run: dict) -> str:
    """A recipe run's learning rates: one, or the critic's and the generator's where they
    differ (TTUR; folders before issue 24 record one)."""
    optimizer = run["optimizer"]
    critic = optimizer.get("lr_critic") or optimizer["lr"]
    generator = optimizer.get("lr_generator") or optimizer["lr"]
    rates = (f"lr {critic:g}" if critic == generator
             else f"lr_critic {critic:g}, lr_generator {generator:g}")
    return f"{run['gan']} / {run['optimizer_label']}: {rates}"


def _agreed(values: dict[str, int], what: str) -> str:
    """The one value every run shares, or each value with its run count."""
    if len(values) == 1:
        return next(iter(values))
    return (f"runs disagree on the {what}: "
            + ", ".join(f"{v} ({n} runs)" for v, n in sorted(values.items())))


def _trained_alone(config: SuiteConfig) -> list[str]:
    """A setup line naming the optimizers whose runs trained one member per group: a plugin's
    not declared element-wise (``gan_zoo.recipes.batches_members``)."""
    alone = [name for name in config.algorithms() if not batches_members(name)]
    if not alone:
        return []
    return [f"- Trained one run per group (not batched with other seeds or trials): "
            f"{', '.join(alone)}, a plugin's optimizer not declared element-wise "
            "(docs/plugins.md)."]


def _metric_lines(evaluation: dict[str, dict[str, int]], config: SuiteConfig) -> list[str]:
    ev, names = config.eval, sorted(evaluation["metrics"])
    lines = [f"- Metrics {ev.describe()}, by protocol name "
             f"(bench/metrics/registry.py): {', '.join(names) or 'none'}; the critic's "
             f"estimate on N={ev.critic_samples} held-out real samples."]
    if any(name.startswith(("w1_", "fid", "fd_")) for name in names):
        lines.append("  - W1, FID and Frechet distances are biased upwards at finite N: "
                     "compare values of the same protocol (same N) only.")
    lines += [f"- Generated samples: {g}." for g in sorted(evaluation["generator"])]
    return lines


def _markdown(
    config, every_run, divergence, datasets, figures, provenance, speed_ups, evaluation, root,
    claims,
) -> str:
    """report.md; ``every_run`` is the summary of all runs (a study's trials included)."""
    expected = config.n_runs
    n_div = int(diverged(every_run).sum())
    summary = recipe_runs(every_run)
    packages = provenance.get("packages", {})
    lines = [
        f"# GAN benchmark report: `{config.name}`",
        "",
        config.description.strip(),
        "",
        "## Setup",
        "",
        f"- Runs: {len(every_run)} of {expected} finished ({n_div} diverged); "
        f"datasets {', '.join(config.datasets)}; GANs {', '.join(config.gans)}; "
        f"optimizers {', '.join(config.run_labels())}; "
        f"seeds {', '.join(map(str, config.seeds))}.",
        (f"- Matched budget for every run: **{next(iter(evaluation['budget']))}**; "
         if len(evaluation["budget"]) == 1 else
         f"- Budgets are **not matched**: {_agreed(evaluation['budget'], 'budget')}; ")
        + f"batch {_agreed(evaluation['batch'], 'batch size')}; "
        f"{'; '.join(sorted(evaluation['networks']))} (from the runs' own configs).",
        f"- Learning rates of the recipe runs: {'; '.join(sorted(evaluation['rates']))}.",
        f"- Device: {provenance.get('device_name', '?')} ({provenance.get('device', '?')}); "
        f"torch {packages.get('torch')}, pytorch-fid {packages.get('pytorch-fid')}; "
        f"commit `{provenance.get('git_commit')}`"
        f"{' (dirty tree)' if provenance.get('git_dirty') else ''}.",
        *speed_ups,
        *_trained_alone(config),
        *_metric_lines(evaluation, config),
        f"- {INTERVALS_CAPTION} The tables below show the headline metrics (quality, modes, "
        "precision and recall, divergence); every metric is in `tables/<dataset>.md` and "
        "`tables/cells.csv`.",
        "",
        "## Results",
        "",
    ]
    for dataset in datasets:
        lines += [f"### {dataset}", "", markdown_table(summary, dataset, headline=True), ""]
    if n_div:
        lines += ["### Divergence", "",
                  "Runs whose losses became NaN/inf; each stopped at its recorded step.", "",
                  frame_to_markdown(divergence[divergence["diverged"] > 0]), ""]
    lines += claims
    lines += ["## Plots", ""]
    for title, drawn in figures:
        if not isinstance(drawn, LeftOut):
            lines += [f"### {title}", "", f"![{title}]({drawn.relative_to(root).as_posix()})", ""]
    left_out = [f"- {title}: {drawn.reason}." for title, drawn in figures
                if isinstance(drawn, LeftOut)]
    if left_out:
        lines += ["### Left out", "", *left_out, ""]
    lines += [
        "## Files",
        "",
        "- `summary.csv`: one row per run (status, counters, final metrics).",
        "- `tables/cells.csv`: mean and 95% CI per dataset x GAN x optimizer x metric.",
        "- `runs/<run>/metrics.csv`: every checkpoint's metrics (tidy rows).",
        "- Rebuild everything here without training: `python run_bench.py report "
        f"{root}`.",
        "",
    ]
    return "\n".join(lines)
