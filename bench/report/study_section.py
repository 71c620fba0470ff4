"""A hyperparameter study's section of the report: its tables written as CSV, the expected-best
and sensitivity plots and the Markdown (``study_section``), from the data of
``bench.analysis.study`` (which holds the selection rule and the tables)."""

import itertools
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from bench.analysis.rules import EQUIVALENT, INCONCLUSIVE
from bench.analysis.study import (
    ordered,
    study_tables,
    tuned_label,
)
from bench.config.search_space import Choice, Distribution, LogUniform
from bench.config.suite import SuiteConfig
from bench.core.atomic import write_text_atomic
from bench.core.outputs import QUALITY_BETTER, with_direction
from bench.core.results import HP, SETTING
from bench.report.plots import Drawn, LeftOut, save_figure
from bench.report.tables import frame_to_markdown
from bench.stats import Estimate

TABLES = Path("tables")
PLOTS = Path("plots")
TRIALS_FILE = TABLES / "search_trials.csv"
CURVES_FILE = TABLES / "expected_best.csv"
RERUN_FILE = TABLES / "search_rerun.csv"
COMPARISONS_FILE = TABLES / "search_comparisons.csv"
SENSITIVITY_FILE = PLOTS / "search_sensitivity.png"
OPTIMIZER_MARKERS = ("o", "s", "^", "D", "v", "P")


def _estimate_text(row: pd.Series, prefix: str) -> str:
    est = Estimate(row[f"{prefix}quality_mean"], row[f"{prefix}quality_ci_low"],
                   row[f"{prefix}quality_ci_high"], int(row[f"{prefix}quality_n"]))
    diverged = int(row[f"{prefix}diverged"])
    return est.format() + f"; {int(row[f'{prefix}seeds'])} seeds" + (
        f", {diverged} diverged" if diverged else "")


def rerun_markdown(table: pd.DataFrame) -> str:
    """The rerun table as Markdown: tuned (selected, then rerun) beside the fixed recipe."""
    hp = [c for c in table if c.startswith(HP)]
    rows = [{
        SETTING: row[SETTING], "GAN": row["gan"], "optimizer": row["optimizer"],
        "best trial": int(row["trial"]),
        "its setting": ", ".join(f"{c.removeprefix(HP)}={row[c]:.3g}" for c in hp
                                 if pd.notna(row[c])),
        "quality": row["quality_metric"] if pd.notna(row["quality_metric"]) else "-",
        "search seeds (selected on)": _estimate_text(row, "search_"),
        "rerun, fresh seeds": _estimate_text(row, "rerun_"),
        "paper recipe": _estimate_text(row, "recipe_"),
    } for _, row in table.iterrows()]
    return frame_to_markdown(pd.DataFrame.from_records(rows))


def _palette(gans: list[str]) -> dict[str, tuple]:
    return dict(zip(gans, sns.color_palette(n_colors=len(gans)), strict=True))


def expected_best_plot(curves: pd.DataFrame, dataset: str, gans: list[str], path: Path) -> Drawn:
    """``dataset``'s expected best quality against k (Lucic et al. 2018's main figure): a
    line per GAN (colour, in ``gans`` order) and optimizer (line style) with its bootstrap
    band, a panel per setting. A cell with diverged trials has an infinite expected best, so
    its line is the expected best given one converged trial, drawn without a band."""
    rows = curves[curves["dataset"] == dataset]
    if not np.isfinite(rows["expected_best_converged"].to_numpy(float)).any():
        return LeftOut(f"every trial on {dataset} diverged or recorded no quality metric")
    settings = sorted(set(rows[SETTING]))
    palette = _palette(ordered(set(rows["gan"]), gans))
    styles = dict(zip(sorted(set(rows["optimizer"])), itertools.cycle(["-", "--", ":", "-."])))
    fig, axes = plt.subplots(1, len(settings), figsize=(4.6 * len(settings), 3.6),
                             squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        panel = rows[rows[SETTING] == setting]
        for gan, optimizer in itertools.product(palette, styles):
            curve = panel[(panel["gan"] == gan) & (panel["optimizer"] == optimizer)]
            if curve.empty:
                continue
            k = curve["k"].to_numpy()
            first = curve.iloc[0]
            diverged = round(first["p_all_diverged"] * first["n_trials"])  # at k = 1: m / N
            label = f"{gan} / {optimizer}" + (
                f" ({diverged}/{first['n_trials']} diverged)" if diverged else "")
            ax.plot(k, curve["expected_best_converged"], styles[optimizer], color=palette[gan],
                    label=label)
            band = curve[["expected_best", "ci_low", "ci_high"]].to_numpy(float)
            if np.isfinite(band).all():
                ax.fill_between(k, band[:, 1], band[:, 2], color=palette[gan], alpha=0.2)
        if rows["n_trials"].max() >= 10:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(setting, fontsize=10)
        ax.set_xlabel("trials k")
        quality = rows["quality_metric"].iloc[0]
        ax.set_ylabel(with_direction(f"expected best {quality}", quality))
        ax.legend(fontsize=7)
    fig.suptitle(f"{dataset}: expected best quality of k random trials, 95% bootstrap band",
                 y=1.02)
    fig.tight_layout()
    return save_figure(fig, path)


def _searched_range(ax: plt.Axes, distributions: list[Distribution]) -> None:
    """x: the field's searched ranges (every optimizer's) with a 5% margin, log-scaled where
    every range is log-uniform (the diverged trials' crosses do not widen the data limits)."""
    ends = [(min(d.values), max(d.values)) if isinstance(d, Choice) else (d.low, d.high)
            for d in distributions]
    low, high = min(e[0] for e in ends), max(e[1] for e in ends)
    if all(isinstance(d, LogUniform) for d in distributions):
        ax.set_xscale("log")
        margin = (high / low) ** 0.05
        ax.set_xlim(low / margin, high * margin)
    else:
        margin = 0.05 * (high - low) or 0.5  # one choice: a unit-wide window around it
        ax.set_xlim(low - margin, high + margin)


def sensitivity_plot(
    trials: pd.DataFrame, config: SuiteConfig, gans: list[str], path: Path
) -> Drawn:
    """Each trial's mean final quality against each searched field (columns; log x for a
    log-uniform field), a row per setting; colour: GAN, marker: optimizer; trials with a
    diverged seed as crosses at the top of the panel."""
    if trials.empty:
        return LeftOut("no trial runs in this results folder")
    if trials["quality_metric"].isna().all():
        return LeftOut("no trial run records a quality metric (W1, FID or fd_digits)")
    settings = sorted(set(trials[SETTING]))
    palette = _palette(ordered(set(trials["gan"]), gans))
    markers = dict(zip(sorted(set(trials["optimizer"])), itertools.cycle(OPTIMIZER_MARKERS)))
    space = config.search.space
    fig, axes = plt.subplots(len(settings), len(space), squeeze=False,
                             figsize=(3.6 * len(space), 3.2 * len(settings)))
    for i, setting in enumerate(settings):
        for j, (field, _) in enumerate(space):
            ax = axes[i][j]
            rows = trials[(trials[SETTING] == setting) & trials[HP + field].notna()]
            ax.set_title(f"{setting} | {field}", fontsize=9)
            if rows.empty:
                ax.text(0.5, 0.5, f"no GAN or optimizer here uses {field}", ha="center",
                        va="center", transform=ax.transAxes, fontsize=8)
                continue
            bad = (rows["diverged"] > 0) | rows["quality_mean"].isna()
            finished = rows[~bad]
            if not finished.empty:
                sns.scatterplot(data=finished, x=HP + field, y="quality_mean", hue="gan",
                                style="optimizer", palette=palette, markers=markers, ax=ax,
                                legend=False)
                y = finished["quality_mean"].to_numpy(float)
                if (y > 0).all() and y.max() > 50 * y.min():  # a few bad trials squash the rest
                    ax.set_yscale("log")
            for row in rows[bad].itertuples(index=False):
                # x in data, y in axes coordinates: on the panel's top edge
                ax.scatter(getattr(row, HP + field), 1.0, marker="x", color=palette[row.gan],
                           transform=ax.get_xaxis_transform(), clip_on=False)
            _searched_range(ax, config.search.ranges(field))
            ax.set_xlabel(field)
            metric = rows["quality_metric"].iloc[0]
            ax.set_ylabel("" if j else f"mean final {metric}" if pd.notna(metric)
                          else "no quality metric")
            if finished.empty:
                ax.set_yticks([])  # crosses only: the y axis has no scale
    handles = [Line2D([], [], color=c, marker="o", ls="", label=g) for g, c in palette.items()]
    handles += [Line2D([], [], color="0.3", marker=m, ls="", label=o) for o, m in markers.items()]
    handles.append(Line2D([], [], color="0.3", marker="x", ls="", label="a seed diverged"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(f"Sensitivity: each trial's mean final quality ({QUALITY_BETTER} is better) "
                 "against its setting", y=1.02)
    fig.tight_layout()
    return save_figure(fig, path)


def _p(p: float) -> str:
    return "" if math.isnan(p) else f"{p:.3g}"


def _seeds(n: float) -> str:
    return "" if math.isnan(n) else str(int(n))


def comparison_rules(config: SuiteConfig) -> list[str]:
    """How the tuned comparisons are judged, in words."""
    s = config.claims
    return [
        f"Verdicts of the cells {tuned_label(config)}, on the rerun seeds' final quality (a "
        "diverged run is the worst), by the claims' rules: for each pair, the directional "
        "check in both directions (one-sided Mann-Whitney U, exact; Cliff's delta with its "
        f"{1 - 2 * s.alpha:.0%} score interval, > 0 when the first is better; TOST within "
        f"+-{s.min_effect:g}). The pairs of one question (a setting, and the GAN or "
        "optimizer held fixed) form a family: a direction is decided after Holm's correction "
        "across the family's checks, both directions of every pair, so the chance of any "
        f"wrong direction in a family is at most alpha = {s.alpha:g}; a pair is equivalent "
        "when TOST puts its Cliff's delta inside the margin at alpha, each pair on its own, "
        "and a family has no pair that differs by the margin only when every pair is "
        "equivalent. An undecided pair gives the seeds per arm that would decide it with 80% "
        "power at Holm's strictest step (Noether's size for Mann-Whitney, the TOST size for "
        "equivalence), planned on its observed Cliff's delta. The final values are compared "
        "at the suite's budget, which is the question here: the claims' convergence test "
        "does not apply. These verdicts are separate from the fixed-recipe claim verdicts "
        "above.", ""]


def comparisons_markdown(comparisons: pd.DataFrame, alpha: float) -> list[str]:
    """Each family's verdict and counts, then every pair's verdict with its numbers."""
    questions = ["comparison", SETTING, "held fixed"]
    families = [{
        "comparison": kind, SETTING: setting, "held fixed": fixed,
        "verdict": rows["family_verdict"].iloc[0], "pairs": len(rows),
        "directions decided": int((rows["winner"] != "").sum()),
        "equivalent": int((rows["verdict"] == EQUIVALENT).sum()),
        "undecided": int((rows["verdict"] == INCONCLUSIVE).sum()),
    } for (kind, setting, fixed), rows in comparisons.groupby(questions, sort=False)]
    pairs = comparisons[[*questions, "verdict"]].assign(**{
        "pair": comparisons["a"] + " vs " + comparisons["b"],
        f"Cliff's delta [{1 - 2 * alpha:.0%} CI]": [
            "" if math.isnan(d) else f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]"
            for d, lo, hi in comparisons[["cliffs_delta", "delta_low",
                                          "delta_high"]].itertuples(index=False)],
        "seeds": comparisons["seeds_a"].astype(str) + " + " + comparisons["seeds_b"].astype(str),
        "p (Holm)": comparisons["p_adjusted"].map(_p),
        "p equivalent": comparisons["p_equivalent"].map(_p),
        "seeds needed": comparisons["seeds_needed"].map(_seeds)})
    order = [*questions, "pair", "verdict", f"Cliff's delta [{1 - 2 * alpha:.0%} CI]",
             "seeds", "p (Holm)", "p equivalent", "seeds needed"]
    return [frame_to_markdown(pd.DataFrame.from_records(families)), "",
            frame_to_markdown(pairs[order]), "",
            "Each pair's evidence (means, one-sided p-values both ways, the seeds plan) is in "
            f"`{COMPARISONS_FILE.as_posix()}`.", ""]


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False))


def _setup(config: SuiteConfig) -> list[str]:
    """The study's design and selection rule, in words."""
    search = config.search
    spaces = [("every optimizer", search.space), *search.by_optimizer]
    space = [{"optimizer": optimizer, "field": field, "distribution": d.kind,
              "values": d.to_dict()[d.kind]}
             for optimizer, own in spaces for field, d in own]
    lines = [
        f"Every cell (dataset x architecture x GAN x optimizer) trained its paper recipe on "
        f"the suite's {len(config.seeds)} seeds and {search.trials} settings drawn by "
        f"{search.sampler} sampling from the space below, each on the same seeds. Trial i is "
        "the same draw in every cell (the same quantiles of an optimizer's own ranges); a GAN "
        "or optimizer skips the fields it does not use.",
        "", frame_to_markdown(pd.DataFrame.from_records(space)), "",
        "**Selection rule.** A cell's best trial has the lowest mean final quality over its "
        "seeds; a trial with any diverged seed ranks below every trial whose seeds all "
        "finished (among those, fewer diverged seeds first); ties go to the lower trial "
        "index.", ""]
    if not search.rerun_seed_count:
        return lines + ["**No rerun.** The search has no `rerun_best`, so its best trials "
                        "are judged on the seeds they were selected on: no tuned verdicts.", ""]
    seeds = ", ".join(map(str, config.rerun_seeds))
    return lines + [f"**Rerun.** Each cell's best trial trained again on {search.rerun_seed_count} "
                    f"fresh seeds ({seeds}), never used by the trials, so tuned numbers are "
                    "not judged on the seeds they were selected on.", ""]


def _figure_lines(root: Path, figures: list[tuple[str, Drawn]]) -> list[str]:
    lines = []
    for title, drawn in figures:
        lines += [f"![{title}]({drawn.relative_to(root).as_posix()})" if isinstance(drawn, Path)
                  else f"- {title} left out: {drawn.reason}.", ""]
    return lines


def study_section(root: Path, config: SuiteConfig, summary: pd.DataFrame) -> list[str]:
    """Write the study's tables and plots under ``root``; return report.md's lines of the
    "Hyperparameter study" section ([] for a suite without a search)."""
    if config.search is None:
        return []
    root = Path(root)
    tables = study_tables(summary, config)
    trials, curves, rerun, comparisons = (tables.trials, tables.curves, tables.rerun,
                                          tables.comparisons)
    for frame, file in ((trials, TRIALS_FILE), (curves, CURVES_FILE), (rerun, RERUN_FILE),
                        (comparisons, COMPARISONS_FILE)):
        _csv(frame, root / file)
    gans = list(config.gans)
    curve_figures = [(f"Expected best quality after k trials, {d}",
                      expected_best_plot(curves, d, gans, root / PLOTS / f"expected_best_{d}.png"))
                     for d in config.datasets]
    sensitivity = sensitivity_plot(trials, config, gans, root / SENSITIVITY_FILE)

    lines = ["## Hyperparameter study", "", *_setup(config),
             f"Tables: `{TRIALS_FILE.as_posix()}` (every trial), `{CURVES_FILE.as_posix()}`, "
             f"`{RERUN_FILE.as_posix()}`, `{COMPARISONS_FILE.as_posix()}`.", "",
             "### Tuned vs paper recipe", "",
             "Final quality, mean [95% CI] over finished seeds. The search seeds' number is "
             "optimistic (the best of many trials on those seeds); the rerun is not.", ""]
    lines += [rerun_markdown(rerun), ""] if not rerun.empty else ["No trial has run yet.", ""]
    lines += ["### Expected best quality after k trials", "",
              "The expected best of k trials drawn from the search (Dodge et al. 2019), the "
              "curve of Lucic et al. 2018 (\"Are GANs created equal?\"): a GAN that needs "
              "fewer trials to reach a quality is easier to tune. A trial with a diverged seed "
              "counts as infinitely bad, so a cell with one has an infinite expected best at "
              "every k: its line (legend: trials diverged) is the expected best given that one "
              "of the k trials converged, drawn without a band.", ""]
    lines += _figure_lines(root, curve_figures)
    lines += ["### Sensitivity to each searched field", ""]
    lines += _figure_lines(root, [("Search sensitivity", sensitivity)])
    lines += ["### Tuned comparisons", ""]
    if comparisons.empty:
        return lines + ["No rerun seeds: no tuned comparisons.", ""]
    return lines + comparison_rules(config) + comparisons_markdown(comparisons,
                                                                   config.claims.alpha)
