"""Coverage of the range-respecting intervals (bench.stats.intervals) on seed distributions
like the suite's, at n = 3, 5 and 10, against the alternatives the choice was made over.

Target: nominal 95% +- 3%. The choice rule per kind of range: the method whose worst
coverage error over these distributions and sizes is smallest. Bounded ranges: the Wilson
interval on the effective number of seeds (Korn-Graubard) beats a Student-t interval cut at
the range (three seeds piled at 8 of 8 modes give it a zero-width interval), a logit-scale
t-interval and, for correlations, a Fisher-z t-interval (both cover the back-transformed
mean of the transformed values, not the mean). Half-bounded ranges: the t-interval cut at 0
covers exactly as the t-interval does (the true mean is never cut off) and beats a log-scale
t-interval (which covers the geometric mean).

A cell passes when its estimated coverage is within 3% of 95%, plus two Monte-Carlo standard
errors of the estimate. Where the chosen method misses that (``OVER_COVERING`` and
``UNDER_COVERING``, measured with 20,000 draws, the ``slow`` run), the test says so instead of
loosening the target:
- with 3 seeds piled at a bound, the effective-seeds Wilson interval over-covers: 98.7% for
  mode counts near 8 of 8, 98.6% near 0, 98.3% for Spearman rho near 1 over 8 checkpoints
  (three seeds without spread leave a wide interval; the t-interval covers 68%, 81%, 91%);
- a continuous rho near 1 with a long tail (tanh of N(1.8, 0.6)): 90%, 88%, 89% at n = 3, 5,
  10 (Fisher z: 92%, 86%, 71%);
- a heavy lognormal (sigma = 1) distance: the t-interval covers 84%, 82%, 84% (a log scale:
  92%, 86%, 71%).
"""

import functools
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from bench.stats import CORRELATION, NONNEGATIVE, UNIT, Range, counts
from bench.stats.intervals import mean_intervals, t_interval

NOMINAL, TOLERANCE = 0.95, 0.03
SIZES = (3, 5, 10)
FAST_DRAWS, SLOW_DRAWS = 1_500, 20_000  # coverage standard error 0.0056 / 0.0015 at 95%

Draw = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]


def spearman_draws(checkpoints: int, noise: float) -> Draw:
    """Spearman rho per seed between a falling quality curve and an estimate tracking it
    with noise, over ``checkpoints`` checkpoints (ties at rho = 1 when the noise is low)."""
    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        steps = np.arange(checkpoints)
        quality = np.exp(-steps / 3.0) + rng.normal(0, 0.05, (*shape, checkpoints))
        estimate = quality + rng.normal(0, noise, (*shape, checkpoints))
        rq, re = quality.argsort(-1).argsort(-1), estimate.argsort(-1).argsort(-1)
        return 1 - 6 * ((rq - re) ** 2).sum(-1) / (checkpoints * (checkpoints**2 - 1))
    return draw


BOUNDED: dict[str, tuple[Draw, Range]] = {
    "modes near 8 of 8": (lambda r, s: 8.0 - r.binomial(8, 0.05, s), counts(8)),
    "modes near 0 of 8": (lambda r, s: r.binomial(8, 0.08, s).astype(float), counts(8)),
    "modes mid 8": (lambda r, s: r.binomial(8, 0.5, s).astype(float), counts(8)),
    "modes of 1000": (lambda r, s: r.binomial(1000, 0.3, s).astype(float), counts(1000)),
    "recall near 1": (lambda r, s: 1 - r.beta(1, 30, s), UNIT),
    "fraction mid": (lambda r, s: r.beta(2, 5, s), UNIT),
    "rho near 1, 8 checkpoints": (spearman_draws(8, 0.1), CORRELATION),
    "rho 0.7, 8 checkpoints": (spearman_draws(8, 0.3), CORRELATION),
    "rho 0.6, 20 checkpoints": (spearman_draws(20, 0.2), CORRELATION),
    "rho near 1, continuous": (lambda r, s: np.tanh(r.normal(1.8, 0.6, s)), CORRELATION),
}
HALF_BOUNDED: dict[str, tuple[Draw, Range]] = {
    "w1-like lognormal": (lambda r, s: r.lognormal(0.0, 0.3, s), NONNEGATIVE),
    "heavy lognormal": (lambda r, s: r.lognormal(0.0, 1.0, s), NONNEGATIVE),
}
OVER_COVERING = {("modes near 8 of 8", 3), ("modes near 0 of 8", 3),
                 ("rho near 1, 8 checkpoints", 3)}
UNDER_COVERING = {("rho near 1, continuous", n) for n in SIZES} | {
    ("heavy lognormal", n) for n in SIZES}


def _t_on_scale(forward: Callable, back: Callable) -> Callable:
    def interval(x: np.ndarray, _: Range) -> tuple[np.ndarray, np.ndarray]:
        low, high = t_interval(forward(x))
        return back(low), back(high)
    return interval


def _logit(x: np.ndarray, r: Range) -> tuple[np.ndarray, np.ndarray]:
    """t-interval on the logit of the share of the span (shares pulled in by 1/(2(n+1)))."""
    edge = 0.5 / (x.shape[-1] + 1)
    share = np.clip((x - r.low) / (r.high - r.low), edge, 1 - edge)
    low, high = t_interval(np.log(share / (1 - share)))
    return tuple(r.low + (r.high - r.low) / (1 + np.exp(-v)) for v in (low, high))


def _cut_t(x: np.ndarray, r: Range) -> tuple[np.ndarray, np.ndarray]:
    low, high = t_interval(x)
    return np.clip(low, r.low, r.high), np.clip(high, r.low, r.high)


def _chosen(x: np.ndarray, r: Range) -> tuple[np.ndarray, np.ndarray]:
    low, high, _ = mean_intervals(x, r)
    return low, high


FISHER = _t_on_scale(lambda x: np.arctanh(np.clip(x, -np.nextafter(1, 0), np.nextafter(1, 0))),
                     np.tanh)
LOG = _t_on_scale(np.log, np.exp)


@functools.cache
def _true_mean(draw: Draw) -> float:
    """The distribution's mean, to about 1e-4 (400,000 draws)."""
    return float(draw(np.random.default_rng(12345), (400_000, 1)).mean())


def coverage(draw: Draw, value_range: Range, n: int, draws: int,
             methods: dict[str, Callable]) -> dict[str, float]:
    """Share of ``draws`` samples of n seeds whose interval contains the true mean."""
    mean = _true_mean(draw)
    x = draw(np.random.default_rng(n), (draws, n)).astype(float)
    out = {}
    with np.errstate(all="ignore"):
        for name, method in methods.items():
            low, high = method(x, value_range)
            out[name] = float(np.mean((low <= mean + 1e-12) & (mean - 1e-12 <= high)))
    return out


def _methods(value_range: Range) -> dict[str, Callable]:
    if value_range.bounded:
        methods = {"chosen": _chosen, "t cut at the range": _cut_t, "logit t": _logit}
        if value_range == CORRELATION:
            methods["Fisher z"] = FISHER
        return methods
    return {"chosen": _chosen, "t": lambda x, _: t_interval(x), "log t": LOG}


def _check(family: dict[str, tuple[Draw, Range]], draws: int) -> None:
    worst: dict[str, float] = {}
    for name, (draw, value_range) in family.items():
        for n in SIZES:
            covered = coverage(draw, value_range, n, draws, _methods(value_range))
            error = {m: abs(c - NOMINAL) for m, c in covered.items()}
            if (name, n) in OVER_COVERING:  # misses on the safe side
                assert covered["chosen"] >= NOMINAL, (name, n, covered)
            elif (name, n) not in UNDER_COVERING:
                monte_carlo = 2 * math.sqrt(NOMINAL * (1 - NOMINAL) / draws)
                assert error["chosen"] <= TOLERANCE + monte_carlo, (name, n, covered)
            for method in ("chosen", "t cut at the range", "logit t", "t", "log t"):
                if method in error:
                    worst[method] = max(worst.get(method, 0.0), error[method])
            if "Fisher z" in error:  # compared over the correlations only
                worst["Fisher z"] = max(worst.get("Fisher z", 0.0), error["Fisher z"])
    # the choice: the smallest worst-case error over the family's distributions and sizes
    assert worst["chosen"] == min(worst.values()), worst


def test_bounded_intervals_cover(draws: int = FAST_DRAWS):
    _check(BOUNDED, draws)


def test_half_bounded_intervals_cover(draws: int = FAST_DRAWS):
    _check(HALF_BOUNDED, draws)
    # cutting at 0 never loses coverage: the true mean is never below 0
    draw, value_range = HALF_BOUNDED["heavy lognormal"]
    covered = coverage(draw, value_range, 3, FAST_DRAWS, _methods(value_range))
    assert covered["chosen"] == covered["t"]


@pytest.mark.slow
@pytest.mark.parametrize("check", [test_bounded_intervals_cover,
                                   test_half_bounded_intervals_cover])
def test_coverage_thoroughly(check):
    check(SLOW_DRAWS)


def test_a_rate_over_seeds_gets_wilsons_interval():
    from statsmodels.stats.proportion import proportion_confint

    from bench.stats import rate_ci
    est = rate_ci(0, 5)
    assert (est.mean, est.method) == (0.0, "wilson") and est.low == 0.0
    assert est.high == pytest.approx(proportion_confint(0, 5, method="wilson")[1])
    assert math.isnan(rate_ci(0, 0).mean)
    # Wilson covers a rate over few seeds near 0 where the Wald interval cannot
    p, n = 0.1, 10
    hits = stats.binom.pmf(np.arange(n + 1), n, p)
    inside = [rate_ci(k, n).low <= p <= rate_ci(k, n).high for k in range(n + 1)]
    assert abs(float(hits[inside].sum()) - NOMINAL) <= TOLERANCE
