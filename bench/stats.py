"""Confidence intervals for a mean over training seeds.

Few seeds get a Student-t interval: a bootstrap interval cannot be wider than the sample
range, so with 3 to 10 seeds it covers the true mean far less often than it claims. From
``BCA_FROM_N`` values on, the BCa bootstrap takes over: it no longer under-covers much and it
adapts to skewed or bimodal seeds ("most seeds fine, some bad"), which the t-interval
assumes away. tests/test_stats.py derives the cut-off from a coverage simulation.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

BCA_FROM_N = 20
"""The smallest number of values whose mean gets a BCa interval instead of a t-interval."""
BCA_RESAMPLES = 9_999


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95% CI (NaN bounds when n < 2) and the CI's ``method``:
    "t" (Student-t), "bca" (BCa bootstrap), or "" when there is no interval."""

    mean: float
    low: float
    high: float
    n: int
    method: str = ""

    def format(self, digits: int = 3) -> str:
        if self.n == 0:
            return "n/a"
        if math.isnan(self.low):
            return f"{self.mean:.{digits}g} (n={self.n})"
        return f"{self.mean:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


@functools.lru_cache(maxsize=256)
def _t_quantile(confidence: float, df: int) -> float:
    """The two-sided Student-t quantile (reports ask for the same few again and again)."""
    return float(stats.t.ppf((1 + confidence) / 2, df))


def t_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval for the mean of each sample along the last axis (at least 2
    values, not all equal): mean -/+ t quantile x standard error."""
    n = samples.shape[-1]
    mean, half = samples.mean(axis=-1), _t_quantile(confidence, n - 1) * stats.sem(samples,
                                                                                   axis=-1)
    return mean - half, mean + half


def bca_interval(
    samples: np.ndarray, confidence: float = 0.95, n_resamples: int = BCA_RESAMPLES
) -> tuple[np.ndarray, np.ndarray]:
    """BCa bootstrap interval for the mean of each sample along the last axis (values not
    all equal); deterministic: the resampling generator is seeded."""
    ci = stats.bootstrap((samples,), np.mean, n_resamples=n_resamples, vectorized=True,
                         axis=-1, confidence_level=confidence, method="BCa",
                         rng=0).confidence_interval
    return ci.low, ci.high


def mean_ci(values: np.ndarray | list[float], confidence: float = 0.95) -> Estimate:
    """Mean of the finite ``values`` with a CI of the mean: Student-t below ``BCA_FROM_N``
    values, BCa bootstrap from there on; [x, x] when every value is x."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    method = "bca" if n >= BCA_FROM_N else "t"
    if np.all(x == x[0]):  # no spread: both methods' limit, which neither computes
        return Estimate(mean, mean, mean, n, method)
    low, high = (bca_interval if method == "bca" else t_interval)(x, confidence)
    return Estimate(mean, float(low), float(high), n, method)


def interval_bounds(values: np.ndarray | list[float]) -> tuple[float, float]:
    """``mean_ci``'s (low, high), or (mean, mean) where there is no interval: the error bar
    seaborn draws (``errorbar=interval_bounds``), so plots show the tables' intervals."""
    est = mean_ci(values)
    if math.isnan(est.low):
        return est.mean, est.mean
    return est.low, est.high
