"""Confidence intervals over training seeds that never leave their quantity's range.

Which method, by the quantity's declared ``Range`` (tests/test_interval_coverage.py holds the
coverage simulation behind each choice):

- **unbounded** and **half-bounded** ([0, inf): distances, times): a Student-t interval below
  ``BCA_FROM_N`` values, the BCa bootstrap from there on, cut at the range's end. A bootstrap
  interval cannot be wider than the sample range, so with 3 to 10 seeds it covers the mean far
  less often than it claims; from ``BCA_FROM_N`` values BCa no longer under-covers much and it
  adapts to skewed or bimodal seeds, which the t-interval assumes away. Cutting at the range's
  end never loses coverage: the true mean lies inside the range.
- **bounded** ([0, 1], [0, M modes], [-1, 1]): the Wilson score interval of the mean as a share
  of the span, on the effective number of seeds n_eff = p(1 - p) / var(p) shrunk by
  (z / t_{n-1})^2 for the few degrees of freedom (Korn & Graubard 1998, the survey-statistics
  interval for a bounded mean with a design effect); n_eff = n when the seeds do not spread.
  Where mode counts pile at 0 or M, or rho at 1, t-intervals computed on the raw scale leave
  the range and under-cover (three seeds at 8 of 8 modes say nothing about a spread they
  did not show); a logit or Fisher-z scale covers another quantity than the mean (the
  back-transformed mean of the transformed values) and misses the mean of skewed seeds.
- **rates** of a binary outcome over seeds (divergence): Wilson's score interval.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from bench.stats.ranges import UNBOUNDED, Range

BCA_FROM_N = 20
"""The smallest number of values whose mean gets a BCa interval instead of a t-interval."""
BCA_RESAMPLES = 9_999

METHOD_NAMES = {"t": "Student-t", "bca": "BCa bootstrap", "wilson": "Wilson score",
                "wilson-eff": "Wilson score on the effective number of seeds"}
"""``Estimate.method`` -> the method's name in words."""


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its CI (NaN bounds when n < 2) and the CI's ``method`` (a key of
    ``METHOD_NAMES``, or "" when there is no interval)."""

    mean: float
    low: float
    high: float
    n: int
    method: str = ""

    def format(self, digits: int = 3) -> str:
        """'mean [low, high]' at ``digits`` significant digits; a value that is float noise
        next to the others (4.44e-16 beside 7.9) prints as 0."""
        if self.n == 0:
            return "n/a"
        if math.isnan(self.low):
            return f"{self.mean:.{digits}g} (n={self.n})"
        scale = max(abs(v) for v in (self.mean, self.low, self.high) if math.isfinite(v))
        low, mean, high = (0.0 if abs(v) < 1e-12 * scale else v
                           for v in (self.low, self.mean, self.high))
        return f"{mean:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


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


def effective_wilson_interval(
    samples: np.ndarray, value_range: Range, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Korn-Graubard interval for the mean of each sample along the last axis (at least 2
    values in the bounded ``value_range``): Wilson's score interval of the mean's share of
    the span with n_eff = p(1 - p) / var(p) x (z / t_{n-1})^2 seeds, n_eff = n x the same
    factor where the values do not spread."""
    n = samples.shape[-1]
    span = value_range.high - value_range.low
    share = (np.clip(samples, value_range.low, value_range.high) - value_range.low) / span
    p = share.mean(axis=-1)
    var = share.var(axis=-1, ddof=1) / n
    spread = var > 0
    n_eff = np.where(spread, p * (1 - p) / np.where(spread, var, 1.0), n)
    z = stats.norm.ppf((1 + confidence) / 2)
    n_eff = n_eff * (z / _t_quantile(confidence, n - 1)) ** 2
    low, high = proportion_confint(p * n_eff, n_eff, alpha=1 - confidence, method="wilson")
    return value_range.low + span * low, value_range.low + span * high


def mean_intervals(samples: np.ndarray, value_range: Range = UNBOUNDED,
                   confidence: float = 0.95,
                   n_resamples: int = BCA_RESAMPLES) -> tuple[np.ndarray, np.ndarray, str]:
    """(low, high, method) of the CI of the mean of each row of ``samples`` [rows, n >= 2]
    (finite values) inside ``value_range``, by the module's rule; [x, x] for a row whose
    values are all x when the range is not bounded on both sides."""
    n = samples.shape[-1]
    if value_range.bounded:
        low, high = effective_wilson_interval(samples, value_range, confidence)
        return low, high, "wilson-eff"
    method = "bca" if n >= BCA_FROM_N else "t"
    mean = samples.mean(axis=-1)
    low, high = mean.copy(), mean.copy()
    spread = np.ptp(samples, axis=-1) > 0  # no spread: both methods' limit, neither computes
    if spread.any():
        if method == "bca":
            low[spread], high[spread] = bca_interval(samples[spread], confidence, n_resamples)
        else:
            low[spread], high[spread] = t_interval(samples[spread], confidence)
    return (np.clip(low, value_range.low, value_range.high),
            np.clip(high, value_range.low, value_range.high), method)


def mean_ci(values: np.ndarray | list[float], value_range: Range = UNBOUNDED,
            confidence: float = 0.95) -> Estimate:
    """Mean of the finite ``values`` with a CI of the mean inside ``value_range`` (see the
    module's doc for the method by range; ``mean_intervals``)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    low, high, method = mean_intervals(x[None, :], value_range, confidence)
    return Estimate(mean, float(low[0]), float(high[0]), n, method)


def rate_ci(events: int, trials: int, confidence: float = 0.95) -> Estimate:
    """The rate ``events`` / ``trials`` (e.g. diverged seeds of a cell) with Wilson's score
    interval, which stays in [0, 1] and covers near 0 and 1 where the Wald interval fails."""
    if trials == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    low, high = proportion_confint(events, trials, alpha=1 - confidence, method="wilson")
    return Estimate(events / trials, float(low), float(high), trials, "wilson")


def interval_bounds(values: np.ndarray | list[float],
                    value_range: Range = UNBOUNDED) -> tuple[float, float]:
    """``mean_ci``'s (low, high), or (mean, mean) where there is no interval: the error bar
    seaborn draws (``errorbar=functools.partial(interval_bounds, value_range=...)``), so
    plots show the tables' intervals."""
    est = mean_ci(values, value_range)
    if math.isnan(est.low):
        return est.mean, est.mean
    return est.low, est.high
