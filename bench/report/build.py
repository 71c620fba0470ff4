"""Rebuild summary.csv, tables/, plots/ and report.md from a results folder, no training."""

import json
from collections import Counter
from pathlib import Path

import pandas as pd

from bench.analysis.section import claims_section
from bench.analysis.study import study_section
from bench.atomic import write_text_atomic
from bench.config import RECIPE_PHASE, SuiteConfig
from bench.data import IMAGE, TOY, get_dataset
from bench.errors import BenchError
from bench.report import plots
from bench.report.plots import Drawn, LeftOut
from bench.report.summary import build_summary
from bench.report.tables import (
    INTERVALS_CAPTION,
    cell_statistics,
    divergence_table,
    frame_to_markdown,
    markdown_table,
)
from bench.store import ResultsStore


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False))


def _provenance(store: ResultsStore) -> dict:
    dirs = store.run_dirs()
    return json.loads((dirs[0] / "provenance.json").read_text()) if dirs else {}


def _speed_ups(store: ResultsStore) -> list[str]:
    """Setup lines saying which speed-ups the runs trained with and what fell back."""
    plans = [json.loads((d / "provenance.json").read_text()).get("acceleration")
             for d in store.run_dirs()]
    plans = [p for p in plans if p]  # folders written before speed-ups were recorded
    if not plans:
        return []
    compiled = Counter("+".join(p["compile"]) or "none" for p in plans)
    line = ("- Speed-ups: torch.compile "
            + ", ".join(f"{name} ({n} runs)" for name, n in sorted(compiled.items()))
            + f"; CUDA graphs {sum(p['cuda_graphs'] for p in plans)} of {len(plans)} runs; "
            f"channels_last {sum(p['channels_last'] for p in plans)} of {len(plans)} runs.")
    notes = sorted({note for p in plans for note in p["notes"]})
    return [line] + [f"  - {note}" for note in notes]


def _figures(store: ResultsStore, summary: pd.DataFrame, metrics: pd.DataFrame,
             datasets: list[str]) -> list[tuple[str, Drawn]]:
    """Every figure of the report, as (title, its file or why it was left out)."""
    folder = store.root / "plots"
    figures: list[tuple[str, Drawn]] = []
    for metric, title in (("w1", "Sample quality (exact W1)"), ("fd_digits",
                          "Frechet distance (digits CNN)"), ("fid", "FID")):
        if (metrics["metric"] == metric).any() or metric == "w1":
            figures += [
                (f"{title} vs generator step",
                 plots.metric_curves(metrics, metric, "step", folder / f"{metric}_vs_step.png")),
                (f"{title} vs training wall-clock",
                 plots.metric_curves(metrics, metric, "train_seconds",
                                     folder / f"{metric}_vs_time.png")),
            ]
    figures += [
        ("Modes captured vs generator step",
         plots.metric_curves(metrics, "modes_captured", "step", folder / "modes_vs_step.png")),
        ("Critic's divergence estimate vs generator step",
         plots.metric_curves(metrics, "divergence_estimate", "step",
                             folder / "estimate_vs_step.png")),
        ("Final metrics with 95% CIs",
         plots.final_metrics_plot(summary, folder / "final_metrics.png")),
    ]
    for dataset in datasets:
        path = folder / f"samples_{dataset}.png"
        if get_dataset(dataset).is_points:
            figures.append((f"Samples and critic: {dataset}",
                            plots.samples_plot(store, summary, dataset, path)))
        else:
            figures.append((f"Final generated images: {dataset}",
                            plots.image_grids_plot(store, summary, dataset, path)))
    return figures


def build_report(root: Path) -> Path:
    """Write every report artefact of the suite in ``root``; returns the report's path."""
    store = ResultsStore(root)
    config = store.load_suite()
    every_run = build_summary(store)
    if every_run.empty:
        raise BenchError(f"{root} holds no finished runs yet; run the suite first")
    root = store.root
    _csv(every_run, root / "summary.csv")
    # the tables, plots and claims compare the paper recipes; a study's trials and reruns
    # have their own section
    summary = every_run[every_run["phase"] == RECIPE_PHASE].reset_index(drop=True)
    metrics = store.load_metrics()
    metrics = metrics[metrics["run_id"].isin(summary["run_id"])]
    _csv(cell_statistics(summary), root / "tables" / "cells.csv")
    divergence = divergence_table(summary)
    _csv(divergence, root / "tables" / "divergence.csv")
    datasets = [d for d in config.datasets if d in set(summary["dataset"])]
    for dataset in datasets:
        write_text_atomic(root / "tables" / f"{dataset}.md", markdown_table(summary, dataset))

    figures = _figures(store, summary, metrics, datasets)
    claims = claims_section(root, config, summary, metrics)  # also writes claims.csv
    claims += study_section(root, config, every_run)
    text = _markdown(config, every_run, divergence, datasets, figures, _provenance(store),
                     _speed_ups(store), _evaluation(store), root, claims)
    path = root / "report.md"
    write_text_atomic(path, text)
    return path


def _networks(config: SuiteConfig, datasets: list[str]) -> str:
    """What trained: MLPs for 2-D data, the image architectures for images."""
    parts = []
    domains = {get_dataset(d).domain for d in datasets}
    if TOY in domains:
        m = config.model
        parts.append(f"2-D data: MLPs {m.depth} x {m.width} ReLU, latent {m.latent_dim}")
    if IMAGE in domains:
        im = config.image_model
        parts.append(f"images: {', '.join(config.image_archs)} ({im.filters} filters, latent "
                     f"{im.latent_dim}, critic norm {im.critic_norm})")
    return "; ".join(parts)


def _evaluation(store: ResultsStore) -> dict[str, set[str]]:
    """The generator protocols and metric protocol names the runs recorded."""
    found: dict[str, set[str]] = {"generator": set(), "metrics": set()}
    for run_dir in store.run_dirs():
        evaluation = json.loads((run_dir / "config.json").read_text()).get("evaluation", {})
        found["generator"].add(evaluation.get("generator", "not recorded"))
        found["metrics"].update(evaluation.get("metrics", {}).values())
    return found


def _metric_lines(evaluation: dict[str, set[str]], config: SuiteConfig) -> list[str]:
    ev, names = config.eval, sorted(evaluation["metrics"])
    lines = [f"- Metrics at every {ev.every} generator steps, by protocol name "
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
    n_div = int((every_run["status"] == "diverged").sum())
    summary = every_run[every_run["phase"] == RECIPE_PHASE]
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
        f"- Matched budget for every run: **{config.budget}**; batch {config.batch_size}; "
        f"{_networks(config, datasets)}.",
        f"- Device: {provenance.get('device_name', '?')} ({provenance.get('device', '?')}); "
        f"torch {packages.get('torch')}, pytorch-fid {packages.get('pytorch-fid')}; "
        f"commit `{provenance.get('git_commit')}`"
        f"{' (dirty tree)' if provenance.get('git_dirty') else ''}.",
        *speed_ups,
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
