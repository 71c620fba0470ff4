"""Confidence intervals of a mean over seeds: closed forms, edge cases, and the coverage
simulation behind ``BCA_FROM_N``.

The cut-off rule: BCa takes over at the smallest n from which (a) it covers the mean of the
well-behaved shapes (normal, uniform) at least 92% of the time, within 0.03 of the nominal
95%, and (b) on the shapes that break the t-interval's normality assumption (skewed lognormal,
bimodal "most seeds fine, some bad") it is at least as close to 95% as the t-interval, a
lognormal tie within simulation error (0.005) counting. In a 10,000-sample sweep over n = 2..30
this holds at every n from 19 on and fails at 18 (BCa covers normal data 91.2% of the time);
the crossing being within simulation error, the cut-off is rounded up to 20. Below n = 14 the
t-interval is closer to 95% on every shape; from about 17 on the two are tied on average, BCa
gaining about 0.03 on the bimodal shape and losing about 0.025 on normal data.
"""

import math
import warnings
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from scipy import stats

from bench.stats.intervals import BCA_FROM_N, Estimate, bca_interval, mean_ci, t_interval

NOMINAL = 0.95
SAMPLES = 3000  # coverage standard error about 0.004 at 95%
CLOSE_SAMPLES = 20_000  # for coverages near their threshold: standard error 0.002 at 92%
RESAMPLES = 999  # fewer than mean_ci's: the coverage barely moves, the test stays fast

Draw = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]
SHAPES: dict[str, tuple[Draw, float]] = {  # a draw and its true mean
    "normal": (lambda rng, shape: rng.standard_normal(shape), 0.0),
    "uniform": (lambda rng, shape: rng.random(shape), 0.5),
    "lognormal": (lambda rng, shape: rng.lognormal(0.0, 1.0, shape), math.exp(0.5)),
    "some seeds bad": (lambda rng, shape: np.where(rng.random(shape) < 0.2,
                                                   rng.normal(10.0, 1.0, shape),
                                                   rng.standard_normal(shape)), 2.0),
}
WELL_BEHAVED = ("normal", "uniform")
ASSUMPTION_BREAKING = ("lognormal", "some seeds bad")


@cache
def coverage(shape: str, n: int, replicates: int = SAMPLES) -> dict[str, float]:
    """Share of ``replicates`` samples of size n whose 95% interval contains the true mean."""
    draw, true_mean = SHAPES[shape]
    samples = draw(np.random.default_rng(n), (replicates, n))
    intervals = {"t": t_interval(samples),
                 "bca": bca_interval(samples, n_resamples=RESAMPLES)}
    return {method: float(np.mean((low <= true_mean) & (true_mean <= high)))
            for method, (low, high) in intervals.items()}


def error(shape: str, n: int, method: str) -> float:
    return abs(coverage(shape, n)[method] - NOMINAL)


@pytest.mark.parametrize("n", [3, 5, 10])
def test_below_the_cutoff_the_t_interval_covers_better_on_every_shape(n):
    assert n < BCA_FROM_N
    for shape in WELL_BEHAVED:
        assert coverage(shape, n)["t"] >= 0.9
    for shape in SHAPES:
        assert error(shape, n, "t") < error(shape, n, "bca"), shape


@pytest.mark.parametrize("n", [BCA_FROM_N, 30])
def test_from_the_cutoff_bca_is_within_tolerance(n):
    # normal data at the cut-off cover about 0.926, too close to 0.92 for 3,000 samples: the
    # slow test below checks it on 20,000
    for shape in WELL_BEHAVED if n > BCA_FROM_N else ("uniform",):
        assert coverage(shape, n)["bca"] >= NOMINAL - 0.03, shape
    assert error("some seeds bad", n, "bca") < error("some seeds bad", n, "t")
    assert error("lognormal", n, "bca") <= error("lognormal", n, "t") + 0.005


@pytest.mark.slow
def test_the_cutoff_is_where_bca_starts_covering_normal_data():
    # 20,000 samples: 0.926 at the cut-off is 3 standard errors above 0.92; two below it,
    # at 18, BCa covers 0.915, 2.4 standard errors short, so the rule does not hold there
    # and the cut-off is not set higher than it needs to be
    assert coverage("normal", BCA_FROM_N, CLOSE_SAMPLES)["bca"] >= NOMINAL - 0.03
    assert coverage("normal", BCA_FROM_N - 2, CLOSE_SAMPLES)["bca"] < NOMINAL - 0.03


@pytest.mark.parametrize("values", [[0.9, 0.95, 1.0], [1.0, 4.0], [3.0, -1.0, 2.5, 7.0, 0.0]])
def test_few_values_get_the_closed_form_t_interval(values):
    x = np.asarray(values)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    est = mean_ci(values)
    assert est.method == "t" and est.n == len(x)
    assert est.mean == pytest.approx(x.mean())
    assert (est.low, est.high) == pytest.approx((x.mean() - half, x.mean() + half))


def test_with_three_seeds_the_interval_can_be_wider_than_their_range():
    est = mean_ci([0.9, 0.95, 1.0])
    assert est.low < 0.9 and est.high > 1.0


def test_many_values_get_a_deterministic_bca_interval():
    x = np.random.default_rng(1).lognormal(size=BCA_FROM_N)
    est = mean_ci(x)
    assert est.method == "bca" and est.n == BCA_FROM_N
    expected = stats.bootstrap((x,), np.mean, method="BCa", rng=0).confidence_interval
    assert (est.low, est.high) == pytest.approx((expected.low, expected.high))
    assert est.low < est.mean < est.high
    assert mean_ci(x) == est
    assert mean_ci(x[:-1]).method == "t"


def test_no_values_one_value_and_non_finite_values():
    empty = mean_ci([])
    assert empty.n == 0 and empty.method == ""
    assert all(math.isnan(v) for v in (empty.mean, empty.low, empty.high))
    single = mean_ci([math.nan, 2.0, math.inf])
    assert (single.mean, single.n, single.method) == (2.0, 1, "")
    assert math.isnan(single.low) and math.isnan(single.high)
    assert mean_ci([1.0, 2.0, -math.inf, 3.0]) == mean_ci([1.0, 2.0, 3.0])


@pytest.mark.parametrize("n", [2, 3, BCA_FROM_N + 5])
def test_equal_values_give_a_point_interval_without_warnings(n):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = mean_ci([0.25] * n)
    assert (est.mean, est.low, est.high, est.n) == (0.25, 0.25, 0.25, n)
    assert est.method == ("bca" if n >= BCA_FROM_N else "t")


def test_the_estimate_formats_with_and_without_an_interval():
    assert mean_ci([]).format() == "n/a"
    assert mean_ci([2.0]).format() == "2 (n=1)"
    assert mean_ci([1.0, 1.0]).format() == "1 [1, 1]"


def test_float_noise_next_to_real_values_prints_as_zero():
    assert Estimate(0.0, 4.44e-16, 7.9, 3, "wilson-eff").format() == "0 [0, 7.9]"
    assert Estimate(1e-20, 1e-21, 2e-20, 3, "t").format() == "1e-20 [1e-21, 2e-20]"  # all tiny
