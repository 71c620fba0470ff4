"""Expected best quality after k trials: the exact order-statistic formula against hand
values, enumeration and simulation; diverged trials; the bootstrap CI."""

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.analysis.expected_best import COLUMNS, expected_best
from tests.conftest import slow_property

BEST = {"lower": min, "higher": max}


def enumerated(values: list[float], k: int, better: str) -> float:
    """The mean best over all N^k equally likely draws of k trials."""
    return float(np.mean([BEST[better](t) for t in itertools.product(values, repeat=k)]))


def test_one_trial_expects_the_mean_and_all_n_trials_are_drawn_with_replacement():
    curve = expected_best([1.0, 2.0, 3.0]).set_index("k")["expected_best"]
    assert curve[1] == pytest.approx(2.0)
    # min of 3 draws from {1, 2, 3}: 3 w.p. 1/27, 2 w.p. 7/27, 1 w.p. 19/27 -- not the min, 1
    assert curve[3] == pytest.approx((3 * 1 + 2 * 7 + 1 * 19) / 27)
    higher = expected_best([1.0, 2.0, 3.0], better="higher").set_index("k")["expected_best"]
    assert higher[1] == pytest.approx(2.0)
    assert higher[3] == pytest.approx((1 * 1 + 2 * 7 + 3 * 19) / 27)


@pytest.mark.parametrize("better", ["lower", "higher"])
def test_the_curve_improves_with_k_towards_the_best_trial(better):
    q = np.random.default_rng(0).lognormal(size=15)
    table = expected_best(q, better=better)
    assert list(table.columns) == COLUMNS
    assert table["k"].tolist() == list(range(1, 16)) and (table["n_trials"] == 15).all()
    curve = table["expected_best"].to_numpy()
    steps = np.diff(curve) if better == "lower" else -np.diff(curve)
    assert (steps < 0).all()
    best = q.min() if better == "lower" else q.max()
    assert abs(curve[-1] - best) < abs(curve[0] - best)


def test_agrees_with_a_monte_carlo_simulation():
    rng = np.random.default_rng(1)
    q = rng.normal(size=12)
    curve = expected_best(q).set_index("k")["expected_best"]
    for k in (2, 5, 12):
        best = q[rng.integers(0, 12, size=(200_000, k))].min(axis=1)
        standard_error = best.std() / math.sqrt(len(best))
        assert abs(best.mean() - curve[k]) < 4 * standard_error, k


@slow_property(60)
@given(values=st.lists(st.floats(-100, 100), min_size=1, max_size=4),
       better=st.sampled_from(["lower", "higher"]))
def test_the_exact_formula_equals_enumerating_every_draw(values, better):
    curve = expected_best(values, better=better, resamples=1)["expected_best"].to_numpy()
    for k in range(1, len(values) + 1):
        assert curve[k - 1] == pytest.approx(enumerated(values, k, better), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("better, worst", [("lower", math.inf), ("higher", -math.inf)])
def test_diverged_trials_are_the_worst_outcome_without_warnings(better, worst):
    q = [1.0, 2.0, 3.0, math.inf, math.nan]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = expected_best(q, better=better).set_index("k")
    # all k draws diverge with probability (2/5)^k > 0: an infinite expectation at every k
    assert (table["expected_best"] == worst).all()
    assert table["p_all_diverged"].to_numpy() == pytest.approx(0.4 ** np.arange(1, 6))
    worst_bound = "ci_high" if better == "lower" else "ci_low"
    assert (table[worst_bound] == worst).all()
    finite = [1.0, 2.0, 3.0]
    for k in range(1, 6):
        draws = [[v for v in t if v in finite] for t in itertools.product(q, repeat=k)]
        converged = [BEST[better](d) for d in draws if d]
        assert table.loc[k, "expected_best_converged"] == pytest.approx(np.mean(converged))


def test_every_trial_diverged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = expected_best([math.inf, math.nan])
    assert (table["expected_best"] == math.inf).all() and (table["p_all_diverged"] == 1).all()
    assert table["expected_best_converged"].isna().all()


def test_the_ci_contains_the_estimate_and_is_deterministic():
    q = np.random.default_rng(2).lognormal(size=20)
    table = expected_best(q, better="lower")
    assert (table["ci_low"] <= table["expected_best"]).all()
    assert (table["expected_best"] <= table["ci_high"]).all()
    assert (table["ci_low"] < table["ci_high"]).all()
    assert table.equals(expected_best(q, better="lower"))
    assert not table.equals(expected_best(q, better="lower", seed=1))


def test_one_trial_no_trials_and_a_bad_direction():
    single = expected_best([0.7]).iloc[0]
    assert (single["expected_best"], single["ci_low"], single["ci_high"]) == (0.7, 0.7, 0.7)
    assert expected_best([]).empty and list(expected_best([]).columns) == COLUMNS
    with pytest.raises(ValueError, match="better"):
        expected_best([1.0], better="smaller")
