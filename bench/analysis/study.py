"""A hyperparameter study's analysis (issue 13): every cell's trials, its best trial and that
trial rerun on fresh seeds, the expected best quality after k trials, and tuned verdicts.

Pure functions of the summary (one row per run with ``phase``, ``trial`` and ``hp_<field>``
columns) and the suite config; the runner calls ``best_trial_params`` to choose the reruns.
A run's quality is its final distance to the data (``correlation.quality_metric``, lower is
better); a diverged run is the worst outcome, +inf.

Selection rule (``best_trials``): per cell, trials are ranked by (1) the number of diverged
seeds, so a trial with any diverged seed ranks below every trial whose seeds all finished,
(2) the mean final quality over the trial's finished seeds (none: last), (3) the lower trial
index, which breaks ties; the first is the cell's best trial.
"""

import itertools
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from bench.analysis.correlation import quality_metric
from bench.analysis.expected_best import COLUMNS as CURVE_COLUMNS
from bench.analysis.expected_best import expected_best
from bench.analysis.rules import directional
from bench.atomic import write_text_atomic
from bench.config import RECIPE_PHASE, RERUN_PHASE, TRIAL_PHASE, SuiteConfig
from bench.data import get_dataset
from bench.metrics.registry import output_range
from bench.report.plots import Drawn, LeftOut, save_figure
from bench.report.tables import frame_to_markdown
from bench.results import CELL, SETTING, with_settings
from bench.search_space import SEARCH_FIELDS, Choice, Distribution, LogUniform
from bench.stats import UNBOUNDED, Estimate, mean_ci

HP = "hp_"
"""Prefix of the summary's searched-field columns: hp_lr holds the lr a run trained with."""
FINAL = "final_"
TABLES = Path("tables")
PLOTS = Path("plots")
TRIALS_FILE = TABLES / "search_trials.csv"
CURVES_FILE = TABLES / "expected_best.csv"
RERUN_FILE = TABLES / "search_rerun.csv"
COMPARISONS_FILE = TABLES / "search_comparisons.csv"
SENSITIVITY_FILE = PLOTS / "search_sensitivity.png"
OPTIMIZER_MARKERS = ("o", "s", "^", "D", "v", "P")
QUALITY_COLUMNS = ["seeds", "diverged", "quality_n", "quality_mean", "quality_ci_low",
                   "quality_ci_high", "quality_ci_method"]
"""A group of runs' final quality: seeds, diverged seeds, mean over the finished [95% CI]."""
COMPARISON_COLUMNS = ["comparison", SETTING, "dataset", "arch", "held fixed", "claim", "metric",
                      "verdict", "evidence", "p_value", "effect_size", "basis"]

CellKey = tuple[str, str, str, str]
"""(dataset, arch, GAN, optimizer label), as RunSpec.cell."""


def _fields(config: SuiteConfig) -> list[str]:
    return [field for field, _ in config.search.space]


def _outcomes(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """The summary with its setting, a column per searched field (NaN where a run's GAN or
    optimizer does not use it: the store writes only used ones), each dataset's
    ``quality_metric`` and each run's final ``quality`` (+inf when it diverged)."""
    runs = with_settings(summary)
    runs = runs.assign(**{HP + f: math.nan for f in _fields(config) if HP + f not in runs})
    metrics = {}
    for dataset, rows in runs.groupby("dataset"):
        recorded = [c.removeprefix(FINAL) for c in rows if c.startswith(FINAL)
                    and rows[c].notna().any()]
        metrics[dataset] = quality_metric(recorded)
    quality = pd.Series(math.nan, index=runs.index)
    for dataset, metric in metrics.items():
        if metric is not None:
            rows = runs["dataset"] == dataset
            quality[rows] = runs.loc[rows, FINAL + metric]
    quality[runs["status"] == "diverged"] = math.inf
    return runs.assign(quality_metric=runs["dataset"].map(metrics), quality=quality)


def _quality_columns(runs: pd.DataFrame, prefix: str = "") -> dict:
    """``QUALITY_COLUMNS`` (with ``prefix``): seeds, diverged seeds and the mean final quality
    over the finished ones [95% CI]."""
    metric = runs["quality_metric"].iloc[0] if len(runs) else None
    value_range = output_range(metric, get_dataset(runs["dataset"].iloc[0])) \
        if isinstance(metric, str) else UNBOUNDED
    # drops the diverged runs' +inf
    est = mean_ci(runs["quality"].to_numpy(dtype=float), value_range)
    values = [len(runs), int((runs["status"] == "diverged").sum()), est.n, est.mean, est.low,
              est.high, est.method]
    return {prefix + c: v for c, v in zip(QUALITY_COLUMNS, values, strict=True)}


def _trials(runs: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """``trial_table`` of ``_outcomes``."""
    hp = [HP + f for f in _fields(config)]
    # seeds in order: the same means, to the last bit, whatever the summary's row order
    trials = runs[runs["phase"] == TRIAL_PHASE].sort_values("seed")
    others = [c for c in trials if c.startswith(FINAL) and c != "final_step"
              and trials[c].notna().any()]
    records = []
    for (*cell, trial), seeds in trials.groupby([*CELL, "trial"], sort=True):
        first = seeds.iloc[0]
        quality = first["quality_metric"]
        records.append(
            dict(zip(CELL, cell, strict=True)) | {SETTING: first[SETTING], "trial": int(trial)}
            | first[hp].to_dict() | {"quality_metric": quality} | _quality_columns(seeds)
            | {f"{c.removeprefix(FINAL)}_mean": seeds[c].mean() for c in others
               if c != FINAL + str(quality)})
    columns = [*CELL, SETTING, "trial", *hp, "quality_metric", *QUALITY_COLUMNS]
    return pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=columns)


def trial_table(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """One row per (cell, trial): the cell, its setting, the trial index, each searched
    field's value (``hp_<field>``, NaN where unused), seeds, diverged seeds, the quality
    metric, the mean final quality over finished seeds with its 95% CI (``quality_*``) and
    the other final metrics' means (``<metric>_mean``)."""
    return _trials(_outcomes(summary, config), config)


def _best(trials: pd.DataFrame) -> pd.DataFrame:
    """Each cell's best row of a trial table, by the module's selection rule."""
    if trials.empty:
        return trials
    ranked = trials.assign(_rank=trials["quality_mean"].fillna(math.inf))
    ranked = ranked.sort_values([*CELL, "diverged", "_rank", "trial"])
    return ranked.groupby(CELL, sort=True).head(1).drop(columns="_rank").reset_index(drop=True)


def best_trials(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """Per cell, the row of ``trial_table`` of its best trial: fewest diverged seeds, then
    lowest mean final quality over the finished seeds, then lowest trial index."""
    return _best(trial_table(summary, config))


def _params(row: pd.Series, config: SuiteConfig) -> dict[str, float | int]:
    """The searched fields a trial's runs used, typed as their validators read them."""
    return {f: int(row[HP + f]) if SEARCH_FIELDS[f].integer else float(row[HP + f])
            for f in _fields(config) if pd.notna(row[HP + f])}


def best_trial_params(
    summary: pd.DataFrame, config: SuiteConfig
) -> dict[CellKey, tuple[int, dict[str, float | int]]]:
    """Cell (dataset, arch, GAN, optimizer label) -> (best trial, the fields its runs used):
    what the runner reruns on fresh seeds. Deterministic: the same summary gives the same
    choice whatever its row order."""
    return {tuple(row[c] for c in CELL): (int(row["trial"]), _params(row, config))
            for _, row in best_trials(summary, config).iterrows()}


def _trial_qualities(trials: pd.DataFrame) -> np.ndarray:
    """A trial's quality for the expected-best curve: its mean, +inf if any seed diverged."""
    return np.where(trials["diverged"] > 0, math.inf, trials["quality_mean"].to_numpy(float))


def _curves(trials: pd.DataFrame) -> pd.DataFrame:
    """``expected_best_table`` of a trial table."""
    frames = []
    for cell, rows in trials.groupby(CELL, sort=True):
        curve = expected_best(_trial_qualities(rows), better="lower")
        first = rows.iloc[0]
        frames.append(curve.assign(**dict(zip(CELL, cell, strict=True)), **{
            SETTING: first[SETTING], "quality_metric": first["quality_metric"]}))
    columns = [*CELL, SETTING, "quality_metric", *CURVE_COLUMNS]
    return pd.concat(frames)[columns] if frames else pd.DataFrame(columns=columns)


def expected_best_table(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """Per cell and k = 1..trials, the expected best of k trials' mean final qualities
    (bench.analysis.expected_best: a trial with a diverged seed is +inf) with its bootstrap
    CI, the chance all k diverged and the expected best given one converged."""
    return _curves(trial_table(summary, config))


def _rerun(runs: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """``rerun_table`` of ``_outcomes`` and its best trials."""
    identity = [*CELL, SETTING, "trial", *(c for c in best if c.startswith(HP)),
                "quality_metric"]
    records = []
    for _, row in best.iterrows():
        cell = runs[(runs[CELL] == row[CELL]).all(axis=1)]
        records.append(
            row[identity].to_dict() | {f"search_{c}": row[c] for c in QUALITY_COLUMNS}
            | _quality_columns(cell[cell["phase"] == RERUN_PHASE], "rerun_")
            | _quality_columns(cell[cell["phase"] == RECIPE_PHASE], "recipe_"))
    columns = identity + [p + c for p in ("search_", "rerun_", "recipe_") for c in QUALITY_COLUMNS]
    return pd.DataFrame.from_records(records, columns=columns)


def rerun_table(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """Per cell: its best trial and that trial's fields; its numbers on the search seeds it
    was selected on (``search_*``, optimistic); the rerun on fresh seeds (``rerun_*``); and
    the paper recipe on the suite's seeds (``recipe_*``): seeds, diverged, mean final
    quality over the finished seeds [95% CI]."""
    runs = _outcomes(summary, config)
    return _rerun(runs, _best(_trials(runs, config)))


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


def tuned_label(config: SuiteConfig) -> str:
    """What a tuned verdict rests on, in words."""
    return (f"tuned (best of {config.search.trials} trials, rerun on "
            f"{config.search.rerun_seeds} fresh seeds)")


def _ordered(present: set[str], order: list[str]) -> list[str]:
    return [x for x in order if x in present] + sorted(present - set(order))


def _compare(rows: pd.DataFrame, axis: str, a: str, b: str, config: SuiteConfig) -> list:
    """'``a`` better than ``b``' on ``rows``' qualities, where ``axis`` ("gan" or
    "optimizer") tells the two groups apart: the values of ``COMPARISON_COLUMNS``."""
    outcome = directional(rows.loc[rows[axis] == a, "quality"],
                          rows.loc[rows[axis] == b, "quality"], "lower", config.claims, (a, b))
    first = rows.iloc[0]
    fixed = f"optimizer {first['optimizer']}" if axis == "gan" else f"GAN {first['gan']}"
    return ["GANs" if axis == "gan" else "optimizers", first[SETTING], first["dataset"],
            first["arch"], fixed, f"{a} better than {b}", first["quality_metric"],
            outcome.verdict, outcome.evidence, outcome.p_value, outcome.effect_size,
            tuned_label(config)]


def _comparisons(runs: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """``tuned_comparisons`` of ``_outcomes``."""
    reruns = runs[runs["phase"] == RERUN_PHASE]
    gan_order = list(config.gans)
    records = []
    for _, rows in reruns.groupby(SETTING, sort=True):
        labels = _ordered(set(rows["optimizer"]), config.run_labels())
        for label in labels:
            same = rows[rows["optimizer"] == label]
            records += [_compare(same, "gan", a, b, config) for a, b in
                        itertools.combinations(_ordered(set(same["gan"]), gan_order), 2)]
        for gan in _ordered(set(rows["gan"]), gan_order):
            same = rows[rows["gan"] == gan]
            records += [_compare(same, "optimizer", a, b, config) for a, b in
                        itertools.combinations(_ordered(set(same["optimizer"]), labels), 2)]
    return pd.DataFrame.from_records(records, columns=COMPARISON_COLUMNS)


def tuned_comparisons(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """On the rerun seeds (final quality, diverged = +inf), per setting: GAN A vs GAN B for
    every pair of GANs under each optimizer, and optimizer A vs optimizer B for every GAN;
    each 'A better than B' judged by ``rules.directional`` with the suite's claim thresholds
    (verdict, evidence, p-value, Cliff's delta) and labelled with ``tuned_label``."""
    return _comparisons(_outcomes(summary, config), config)


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
    palette = _palette(_ordered(set(rows["gan"]), gans))
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
        ax.set_ylabel(f"expected best {rows['quality_metric'].iloc[0]} (lower is better)")
        ax.legend(fontsize=7)
    fig.suptitle(f"{dataset}: expected best quality of k random trials, 95% bootstrap band",
                 y=1.02)
    fig.tight_layout()
    return save_figure(fig, path)


def _searched_range(ax: plt.Axes, distribution: Distribution) -> None:
    """x: the field's searched range with a 5% margin, log-scaled for a log-uniform field
    (the diverged trials' crosses do not widen the data limits)."""
    if isinstance(distribution, Choice):
        low, high = min(distribution.values), max(distribution.values)
    else:
        low, high = distribution.low, distribution.high
    if isinstance(distribution, LogUniform):
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
    palette = _palette(_ordered(set(trials["gan"]), gans))
    markers = dict(zip(sorted(set(trials["optimizer"])), itertools.cycle(OPTIMIZER_MARKERS)))
    space = config.search.space
    fig, axes = plt.subplots(len(settings), len(space), squeeze=False,
                             figsize=(3.6 * len(space), 3.2 * len(settings)))
    for i, setting in enumerate(settings):
        for j, (field, distribution) in enumerate(space):
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
            _searched_range(ax, distribution)
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
    fig.suptitle("Sensitivity: each trial's mean final quality (lower is better) against its "
                 "setting", y=1.02)
    fig.tight_layout()
    return save_figure(fig, path)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False))


def _setup(config: SuiteConfig) -> list[str]:
    """The study's design and selection rule, in words."""
    search = config.search
    space = [{"field": field, "distribution": kind, "values": values}
             for field, d in search.to_dict()["space"].items()
             for kind, values in d.items()]
    lines = [
        f"Every cell (dataset x architecture x GAN x optimizer) trained its paper recipe on "
        f"the suite's {len(config.seeds)} seeds and {search.trials} settings drawn by "
        f"{search.sampler} sampling from the space below, each on the same seeds. Trial i is "
        "the same draw in every cell; a GAN or optimizer skips the fields it does not use.",
        "", frame_to_markdown(pd.DataFrame.from_records(space)), "",
        "**Selection rule.** A cell's best trial has the lowest mean final quality over its "
        "seeds; a trial with any diverged seed ranks below every trial whose seeds all "
        "finished (among those, fewer diverged seeds first); ties go to the lower trial "
        "index.", ""]
    if search.rerun_seeds is None:
        return lines + ["**No rerun.** The search has no `rerun_best`, so its best trials "
                        "are judged on the seeds they were selected on: no tuned verdicts.", ""]
    seeds = ", ".join(map(str, config.rerun_seeds))
    return lines + [f"**Rerun.** Each cell's best trial trained again on {search.rerun_seeds} "
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
    runs = _outcomes(summary, config)
    trials = _trials(runs, config)
    curves = _curves(trials)
    rerun = _rerun(runs, _best(trials))
    comparisons = _comparisons(runs, config)
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
    lines += [f"Verdicts of the cells {tuned_label(config)}, by the claims' directional rule "
              "(one-sided Mann-Whitney U and Cliff's delta, diverged runs worst). They are "
              "separate from the fixed-recipe claim verdicts above.", ""]
    table = comparisons[["comparison", SETTING, "held fixed", "claim", "verdict", "evidence"]]
    return lines + [frame_to_markdown(table.replace("|", r"\|", regex=False)), ""]
