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
