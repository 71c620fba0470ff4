"""The convergence test (bench.stats.trend.improvement and bench.analysis.family's rule),
simulated at the suites' checkpoint windows: autocorrelated flat noise is taken for an
improving arm at most 5% of the time, and an arm still falling 20% over the window is caught
at least 80% of the time. Fast versions by default (about 5 s); thorough ones are slow.

The noise: AR(1) with coefficient 0.7 between checkpoints and a marginal sd of 8% of the
level. The quick suite's W1 over its last 5 checkpoints varied by 1.4-14% of its level per
run (median ~7%, ring8 and grid25, 36 runs), so 8% is a typical arm, not a quiet one."""

import math

import numpy as np
import pytest

from bench.analysis.family import still_improving
from bench.core.specs import ClaimsSpec
from bench.stats.trend import MIN_WINDOW, improvement, window_size

SPEC = ClaimsSpec()
NOISE, PHI = 0.08, 0.7


def _ar1(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    noise = np.empty(shape)
    noise[:, 0] = rng.normal(0, NOISE, shape[0])
    innovations = rng.normal(0, NOISE * math.sqrt(1 - PHI ** 2), shape)
    for t in range(1, shape[1]):
        noise[:, t] = PHI * noise[:, t - 1] + innovations[:, t]
    return noise


def blocked_rate(drop: float, seeds: int, window: int, runs: int, seed: int = 0) -> float:
    """Share of simulated arms (``seeds`` runs, ``window`` checkpoints, W1-like: lower is
    better) that the rule calls still improving, their mean falling ``drop`` over the
    window."""
    rng = np.random.default_rng(seed)
    steps = np.arange(window) * 100.0
    level = 1.0 - drop * np.arange(window) / (window - 1)
    blocked = 0
    for _ in range(runs):
        trend = improvement(steps, level + _ar1(rng, (seeds, window)), lower_is_better=True)
        blocked += still_improving(trend, SPEC)
    return blocked / runs


def _error(rate: float, runs: int) -> float:
    return 2.6 * math.sqrt(rate * (1 - rate) / runs)


# quick: 11 checkpoints -> a window of 5; claims-cpu: 16 -> 6
SUITE_WINDOWS = [window_size(11, SPEC.trend_fraction), window_size(16, SPEC.trend_fraction)]


def test_the_window_holds_at_least_five_checkpoints():
    assert MIN_WINDOW == 5 and SUITE_WINDOWS == [5, 6]
    assert window_size(30, 1 / 3) == 10 and window_size(4, 1 / 3) == 4


@pytest.mark.parametrize("seeds, window, runs", [
    pytest.param(4, 5, 1500, id="fast"),
    *[pytest.param(s, w, 20_000, id=f"thorough-{s}-seeds-{w}-points", marks=pytest.mark.slow)
      for s in (3, 4, 8) for w in (5, 6)]])
def test_flat_autocorrelated_noise_is_rarely_taken_for_improvement(seeds, window, runs):
    rate = blocked_rate(0.0, seeds, window, runs)
    assert rate <= SPEC.convergence_alpha + _error(SPEC.convergence_alpha, runs), rate


@pytest.mark.parametrize("seeds, window, runs", [
    pytest.param(4, 5, 1500, id="fast"),
    *[pytest.param(s, w, 20_000, id=f"thorough-{s}-seeds-{w}-points", marks=pytest.mark.slow)
      for s in (4, 8) for w in (5, 6)]])
def test_an_arm_still_falling_20_percent_is_caught(seeds, window, runs):
    rate = blocked_rate(0.2, seeds, window, runs)
    assert rate >= 0.8 - _error(0.8, runs), rate


def test_per_seed_slopes_are_exact_where_one_series_is_not():
    """The reason for the design: a slope test over the mean series at 5 autocorrelated
    points (scipy's linregress, its nominal 5% one-sided) blocks flat arms far more often."""
    from scipy import stats
    rng = np.random.default_rng(1)
    steps = np.arange(5) * 100.0
    naive = np.mean([
        stats.linregress(steps, (1.0 + _ar1(rng, (4, 5))).mean(axis=0),
                         alternative="less").pvalue <= 0.05 for _ in range(2000)])
    assert naive > 0.08, naive
