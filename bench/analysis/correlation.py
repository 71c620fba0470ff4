"""Does the critic's estimate track sample quality? Rank correlations across checkpoints.

Per run, two estimates are correlated with the run's sample quality over its checkpoints:

- ``train``: minus the critic's training loss (its mean since the previous checkpoint),
  median-filtered over checkpoints as the WGAN reference code filters its curve. For the WGANs
  that is the Wasserstein estimate; for the vanilla GAN, minus the BCE loss is an increasing
  affine function of its JS estimate, (log 4 - loss) / 2, so its rank correlations are those
  of the JS estimate;
- ``heldout``: ``divergence_estimate``, the critic's estimate on real samples never used for
  training (the WGAN-GP paper's overfitting check).

Sign convention: quality metrics are distances, lower is better (``QUALITY_BETTER``, which
the output table enforces), and the estimate is correlated with the distance itself. An
estimate that tracks quality falls as the samples improve, so **tracking quality means a
positive rho** (1: same order as the distance).
"""

import math
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from bench.core.outputs import CRITIC_LOSS, DIVERGENCE_ESTIMATE, quality_outputs
from bench.core.results import CELL, FINISHED
from bench.stats import CORRELATION, mean_ci
from bench.stats.trend import final_trend

ESTIMATES = ("train", "heldout")


def quality_metric(metric_names: Iterable[str]) -> str | None:
    """The preferred quality metric among ``metric_names``, or None: the first quality
    distance of the output table (bench.core.outputs) they hold, exact W1 on 2-D data, FID
    (or the digits Frechet distance) on images."""
    names = set(metric_names)
    return next((m for m in quality_outputs() if m in names), None)


def median_filter(values: np.ndarray | list[float], window: int) -> np.ndarray:
    """Running median over an odd ``window``, shrinking (not zero-padding) at the ends.

    scipy.signal.medfilt pads with zeros, which drags the first and last points of a short
    checkpoint series towards 0; here the window just holds fewer points there.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"median filter window must be odd and >= 1, got {window}")
    x = np.asarray(values, dtype=float)
    half = window // 2
    return np.array([np.median(x[max(0, i - half) : i + half + 1]) for i in range(len(x))])


def rank_correlation(
    estimate: np.ndarray | list[float], quality: np.ndarray | list[float], min_points: int = 3
) -> tuple[float, float, int]:
    """(Spearman rho, Kendall tau, points) over the pairs where both are finite.

    NaN correlations when fewer than ``min_points`` pairs remain or either series is constant
    (a rank correlation is undefined there, not zero).
    """
    x, y = np.asarray(estimate, dtype=float), np.asarray(quality, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    if n < max(min_points, 2) or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho = stats.spearmanr(x, y).statistic
        tau = stats.kendalltau(x, y).statistic
    return float(rho), float(tau), n


def quality_change(steps: np.ndarray, quality: np.ndarray) -> float:
    """How far quality moved across checkpoints: |Theil-Sen fitted change| over the whole
    series relative to its fitted start (bench.stats.trend), 0 when the slope's 95% CI holds
    0 (checkpoint noise alone: W1 on 500 samples varies by about 10% between checkpoints of
    a fixed generator), NaN with fewer than 3 checkpoints."""
    trend = final_trend(steps, quality, fraction=1.0)
    if trend is None:
        return math.nan
    return abs(trend.change) if trend.low > 0 or trend.high < 0 else 0.0


def run_series(rows: pd.DataFrame, window: int) -> pd.DataFrame | None:
    """One run's checkpoint series: step, quality, train and heldout estimates (None when the
    run records no quality metric). ``rows`` are the run's tidy metric rows."""
    wide = rows.pivot_table(index="step", columns="metric", values="value", aggfunc="last")
    quality = quality_metric(wide.columns)
    if quality is None:
        return None
    wide = wide.sort_index()
    out = pd.DataFrame({"quality": wide[quality]})  # indexed by step, like ``wide``
    out["heldout"] = wide.get(DIVERGENCE_ESTIMATE, math.nan)
    out["train"] = math.nan
    if CRITIC_LOSS in wide:
        # step 0 has no training loss yet: filter over the checkpoints that have one
        loss = wide[CRITIC_LOSS].to_numpy()
        present = np.isfinite(loss)
        if present.any():
            out.loc[present, "train"] = median_filter(-loss[present], window)
    out = out.reset_index()
    out.attrs["quality_metric"] = quality
    return out


def run_correlations(
    metrics: pd.DataFrame, summary: pd.DataFrame, window: int, min_checkpoints: int
) -> pd.DataFrame:
    """Per run: Spearman rho and Kendall tau of each estimate against quality.

    Diverged runs get no correlation (their series stop at divergence, mid-training).
    Columns: run_id, dataset, gan, optimizer, seed, status, quality_metric,
    ``quality_change`` (of quality over the checkpoints the training estimate is correlated
    over: a flat quality leaves nothing to correlate), then
    ``rho_<estimate>``, ``tau_<estimate>``, ``n_<estimate>`` for each estimate.
    """
    records = []
    grouped = dict(tuple(metrics.groupby("run_id"))) if not metrics.empty else {}
    for run in summary.itertuples(index=False):
        record = {c: getattr(run, c) for c in ("run_id", *CELL, "seed", "status")}
        record["quality_metric"], record["quality_change"] = None, math.nan
        for name in ESTIMATES:
            record |= {f"rho_{name}": math.nan, f"tau_{name}": math.nan, f"n_{name}": 0}
        series = run_series(grouped[run.run_id], window) if run.run_id in grouped else None
        if series is not None and run.status == FINISHED:
            record["quality_metric"] = series.attrs["quality_metric"]
            used = np.isfinite(series["train"]) & np.isfinite(series["quality"])
            record["quality_change"] = quality_change(series.loc[used, "step"].to_numpy(),
                                                      series.loc[used, "quality"].to_numpy())
            for name in ESTIMATES:
                rho, tau, n = rank_correlation(series[name], series["quality"], min_checkpoints)
                record |= {f"rho_{name}": rho, f"tau_{name}": tau, f"n_{name}": n}
        records.append(record)
    return pd.DataFrame.from_records(records)


def cell_correlations(per_run: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x GAN x optimizer and estimate: the mean Spearman rho and Kendall tau over
    seeds with a 95% CI inside [-1, 1] and its method (bench.stats.mean_ci; n counts the seeds
    with a defined correlation)."""
    records = []
    for keys, cell in per_run.groupby(CELL, sort=True):
        for name in ESTIMATES:
            for statistic, column in (("spearman", f"rho_{name}"), ("kendall", f"tau_{name}")):
                est = mean_ci(cell[column].to_numpy(dtype=float), CORRELATION)
                records.append(
                    dict(zip(CELL, keys, strict=True))
                    | {"estimate": name, "statistic": statistic, "n": est.n, "mean": est.mean,
                       "ci_low": est.low, "ci_high": est.high, "ci_method": est.method}
                )
    return pd.DataFrame.from_records(
        records,
        columns=CELL + ["estimate", "statistic", "n", "mean", "ci_low", "ci_high", "ci_method"],
    )
