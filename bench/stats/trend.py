"""Is a quantity still moving at the end of training? Theil-Sen slope over the last checkpoints.

Theil-Sen (the median of pairwise slopes, scipy.stats.theilslopes) rather than least squares:
a checkpoint series of a GAN has outliers (a bad checkpoint, a spike before recovery), and
one of them moves a least-squares slope but not the median of the pairwise slopes. Its CI
comes from Kendall's tau, so it needs no normal residuals.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Trend:
    """The Theil-Sen fit of the last checkpoints of a series."""

    slope: float
    """Change of the value per unit of x (e.g. per generator step)."""
    low: float
    high: float
    """The slope's CI."""
    change: float
    """Fitted change over the window relative to the fitted value at its start (-0.18: the
    value fell 18%); +-inf when that fitted start is 0."""
    points: int


def final_trend(x: np.ndarray | list[float], y: np.ndarray | list[float],
                fraction: float = 1 / 3, confidence: float = 0.95,
                min_points: int = 3) -> Trend | None:
    """Theil-Sen slope of ``y`` against ``x`` over the last ``fraction`` of the points where
    both are finite (at least ``min_points`` of them, if the series has that many); None
    when fewer than ``min_points`` points are available (no trend can be tested)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    window = max(math.ceil(len(xs) * fraction), min_points)
    if len(xs) < window or np.ptp(xs[-window:]) == 0:
        return None
    xs, ys = xs[-window:], ys[-window:]
    fit = stats.theilslopes(ys, xs, alpha=confidence)
    start = fit.intercept + fit.slope * xs[0]
    delta = fit.slope * (xs[-1] - xs[0])
    change = delta / abs(start) if start != 0 else math.copysign(math.inf, delta) if delta \
        else 0.0
    return Trend(float(fit.slope), float(fit.low_slope), float(fit.high_slope), float(change),
                 window)


MIN_WINDOW = 5
"""Fewest checkpoints a convergence window holds (with fewer a slope says little)."""


@dataclass(frozen=True)
class Improvement:
    """Whether an arm's seeds are still improving over the last checkpoints."""

    change: float
    """Mean fitted change over the window relative to the mean fitted value at its start
    (-0.18: the value fell 18%); +-inf when that start is 0."""
    p_value: float
    """One-sided p-value of "still improving": Student's t over the seeds' slopes."""
    points: int
    seeds: int


def window_size(checkpoints: int, fraction: float) -> int:
    """Checkpoints in the convergence window: the last ``fraction`` of them, at least
    ``MIN_WINDOW`` (all of them when there are fewer)."""
    return min(checkpoints, max(math.ceil(checkpoints * fraction), MIN_WINDOW))


def improvement(x: np.ndarray | list[float], series: np.ndarray,
                lower_is_better: bool) -> Improvement | None:
    """Is the mean of ``series`` [seeds, checkpoints at ``x``] still moving the better way
    (down when ``lower_is_better``, else up)? Each seed's least-squares slope over the
    window, then a one-sided t-test of their mean against 0.

    Why per-seed slopes: checkpoints of one run are autocorrelated (a run wanders), so a
    trend test over one series, Theil-Sen's or least squares', is anti-conservative and at
    5 points its nominal level is not its real one. Seeds are independent, and a slope is a
    linear function of its run's values, so the seeds' slopes are independent draws
    whatever the autocorrelation within a run: the t-test over them is exact for Gaussian
    runs (tests/test_convergence.py simulates AR(0.7) noise). None with fewer than 2 seeds
    or 3 checkpoints."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(series, dtype=float)
    if ys.ndim != 2 or ys.shape[0] < 2 or ys.shape[1] < 3 or np.ptp(xs) == 0:
        return None
    centred = xs - xs.mean()
    slopes = ys @ centred / (centred @ centred)
    starts = ys.mean(axis=1) + slopes * (xs[0] - xs.mean())
    start, delta = starts.mean(), slopes.mean() * (xs[-1] - xs[0])
    change = delta / abs(start) if start != 0 else math.copysign(math.inf, delta) if delta \
        else 0.0
    improving = -slopes if lower_is_better else slopes
    if np.ptp(improving) <= 1e-9 * np.abs(improving).max():  # every seed moved alike
        p = 0.0 if improving[0] > 0 else 1.0
    else:
        p = float(stats.ttest_1samp(improving, 0.0, alternative="greater").pvalue)
    return Improvement(float(change), p, len(xs), ys.shape[0])
