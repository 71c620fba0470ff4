"""A hyperparameter study's analysis (issue 13): every cell's trials, its best trial and that
trial rerun on fresh seeds, the expected best quality after k trials, and tuned verdicts:
every pair of optimizers (per GAN) and of GANs (per optimizer) on the rerun seeds, each
question's pairs judged as one family by the claims' rules (bench.analysis.pairwise).

Pure functions of the summary (one row per run with ``phase``, ``trial`` and ``hp_<field>``
columns) and the suite config; the runner calls ``best_trial_params`` to choose the reruns.
A run's quality is its final distance to the data (``correlation.quality_metric``, lower is
better: ``QUALITY_BETTER``); a diverged run is the worst outcome, +inf.

Selection rule (``best_trials``): per cell, trials are ranked by (1) the number of diverged
seeds, so a trial with any diverged seed ranks below every trial whose seeds all finished,
(2) the mean final quality over the trial's finished seeds (none: last), (3) the lower trial
index, which breaks ties; the first is the cell's best trial.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.analysis.correlation import quality_metric
from bench.analysis.expected_best import COLUMNS as CURVE_COLUMNS
from bench.analysis.expected_best import expected_best
from bench.analysis.pairwise import Group, judge_pairs
from bench.config.suite import SuiteConfig
from bench.core.hyperparameters import SEARCH_FIELDS
from bench.core.outputs import QUALITY_BETTER
from bench.core.results import (
    CELL,
    FINAL,
    HP,
    SETTING,
    diverged,
    final_metric_columns,
    with_settings,
)
from bench.core.specs import RECIPE_PHASE, RERUN_PHASE, TRIAL_PHASE, Cell
from bench.data import get_dataset
from bench.metrics.declarations import output_range
from bench.stats import UNBOUNDED, Range, mean_ci

QUALITY_COLUMNS = ["seeds", "diverged", "quality_n", "quality_mean", "quality_ci_low",
                   "quality_ci_high", "quality_ci_method"]
"""A group of runs' final quality: seeds, diverged seeds, mean over the finished [95% CI]."""
COMPARISON_COLUMNS = [
    "comparison", SETTING, "dataset", "arch", "held fixed", "family_verdict", "a", "b",
    "metric", "verdict", "winner", "seeds_a", "seeds_b", "p_a_better", "p_b_better",
    "p_adjusted", "p_equivalent", "cliffs_delta", "delta_low", "delta_high", "margin",
    "seeds_needed", "seeds_plausible", "evidence", "basis"]
"""A tuned comparison of two groups (``bench.analysis.pairwise.PairVerdict``: Cliff's delta
> 0 when ``a`` is better, its (1 - 2 alpha) interval) in the family of its question (the
setting, and the GAN or optimizer held fixed) and that family's verdict."""

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
    quality[diverged(runs)] = math.inf
    return runs.assign(quality_metric=runs["dataset"].map(metrics), quality=quality)


def _quality_range(runs: pd.DataFrame) -> Range:
    """The range of the quality metric of ``runs`` (of one dataset)."""
    metric = runs["quality_metric"].iloc[0] if len(runs) else None
    return output_range(metric, get_dataset(runs["dataset"].iloc[0])) \
        if isinstance(metric, str) else UNBOUNDED


def _quality_columns(runs: pd.DataFrame, prefix: str = "") -> dict:
    """``QUALITY_COLUMNS`` (with ``prefix``): seeds, diverged seeds and the mean final quality
    over the finished ones [95% CI]."""
    # drops the diverged runs' +inf
    est = mean_ci(runs["quality"].to_numpy(dtype=float), _quality_range(runs))
    values = [len(runs), int(diverged(runs).sum()), est.n, est.mean, est.low,
              est.high, est.method]
    return {prefix + c: v for c, v in zip(QUALITY_COLUMNS, values, strict=True)}


def _trials(runs: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """``trial_table`` of ``_outcomes``."""
    hp = [HP + f for f in _fields(config)]
    # seeds in order: the same means, to the last bit, whatever the summary's row order
    trials = runs[runs["phase"] == TRIAL_PHASE].sort_values("seed")
    others = [c for c in final_metric_columns(trials) if trials[c].notna().any()]
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
) -> dict[Cell, tuple[int, dict[str, float | int]]]:
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
        curve = expected_best(_trial_qualities(rows), better=QUALITY_BETTER)
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


def tuned_label(config: SuiteConfig) -> str:
    """What a tuned verdict rests on, in words."""
    return (f"tuned (best of {config.search.trials} trials, rerun on "
            f"{config.search.rerun_seed_count} fresh seeds)")


def ordered(present: set[str], order: list[str]) -> list[str]:
    return [x for x in order if x in present] + sorted(present - set(order))


def _family(rows: pd.DataFrame, axis: str, order: list[str], config: SuiteConfig) -> list:
    """Every pair of ``axis`` values ("gan" or "optimizer") in ``rows`` (one setting, the
    other axis held fixed), in ``order``, judged as one family on the final quality: the
    values of ``COMPARISON_COLUMNS``, one list per pair."""
    names = ordered(set(rows[axis]), order)
    groups = {name: Group(name, rows.loc[rows[axis] == name, "quality"].to_numpy(float))
              for name in names}
    family, pairs = judge_pairs([(groups[a], groups[b]) for a, b in
                                 itertools.combinations(names, 2)],
                                QUALITY_BETTER, config.claims, _quality_range(rows))
    first = rows.iloc[0]
    fixed = f"optimizer {first['optimizer']}" if axis == "gan" else f"GAN {first['gan']}"
    return [["GANs" if axis == "gan" else "optimizers", first[SETTING], first["dataset"],
             first["arch"], fixed, family, p.a, p.b, first["quality_metric"], p.verdict,
             p.winner, len(groups[p.a].values), len(groups[p.b].values), p.p_a_better,
             p.p_b_better, p.p_adjusted, p.p_equivalent, p.cliffs_delta, p.delta_low,
             p.delta_high, p.margin, p.seeds_needed, p.seeds_plausible, p.evidence,
             tuned_label(config)] for p in pairs]


def _comparisons(runs: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """``tuned_comparisons`` of ``_outcomes``."""
    reruns = runs[runs["phase"] == RERUN_PHASE]
    gan_order = list(config.gans)
    records = []
    for _, rows in reruns.groupby(SETTING, sort=True):
        labels = ordered(set(rows["optimizer"]), config.run_labels())
        for label in labels:
            records += _family(rows[rows["optimizer"] == label], "gan", gan_order, config)
        for gan in ordered(set(rows["gan"]), gan_order):
            records += _family(rows[rows["gan"] == gan], "optimizer", labels, config)
    return pd.DataFrame.from_records(records, columns=COMPARISON_COLUMNS)


def tuned_comparisons(summary: pd.DataFrame, config: SuiteConfig) -> pd.DataFrame:
    """On the rerun seeds (final quality, diverged = +inf), per setting: every pair of GANs
    under each optimizer, and every pair of optimizers for each GAN; each question's pairs
    judged as one family (bench.analysis.pairwise) with the suite's claim thresholds, one row
    per pair (``COMPARISON_COLUMNS``), labelled with ``tuned_label``."""
    return _comparisons(_outcomes(summary, config), config)


@dataclass(frozen=True)
class StudyTables:
    """Every table of a study's analysis, computed from one pass over the summary."""

    trials: pd.DataFrame
    """``trial_table``."""
    curves: pd.DataFrame
    """``expected_best_table``."""
    rerun: pd.DataFrame
    """``rerun_table``."""
    comparisons: pd.DataFrame
    """``tuned_comparisons``."""


def study_tables(summary: pd.DataFrame, config: SuiteConfig) -> StudyTables:
    """The study's trial, expected-best, rerun and tuned-comparison tables."""
    runs = _outcomes(summary, config)
    trials = _trials(runs, config)
    return StudyTables(trials, _curves(trials), _rerun(runs, _best(trials)),
                       _comparisons(runs, config))
