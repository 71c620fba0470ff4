"""bench.stats's smaller pieces on hand-made values: Holm, Cliff's delta's interval, the
p-value an interval inverts and Theil-Sen trends."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from bench.stats import CORRELATION, UNBOUNDED, counts, mean_ci
from bench.stats.equivalence import p_beyond
from bench.stats.tests import cliffs_delta, cliffs_delta_ci, cliffs_delta_p_beyond, holm
from bench.stats.trend import final_trend


def test_holm_by_hand_and_untested_checks_left_out():
    # sorted 0.01, 0.02, 0.04: 3 x 0.01, max(0.03, 2 x 0.02), max(0.04, 0.04)
    assert holm([0.04, 0.01, math.nan, 0.02]) == pytest.approx([0.04, 0.03, math.nan, 0.04],
                                                               nan_ok=True)
    assert holm([math.nan]) == [pytest.approx(math.nan, nan_ok=True)]
    assert holm([]) == []


def test_holm_equals_statsmodels():
    rng = np.random.default_rng(0)  # few calls: statsmodels' gc.collect() costs 0.35 s each
    for k in (1, 2, 5, 12):
        for _ in range(2):
            p = rng.uniform(0, 0.2, k) ** rng.uniform(0.5, 3)
            p[rng.random(k) < 0.2] = p[0]  # ties
            assert holm(p.tolist()) == pytest.approx(
                multipletests(p, method="holm")[1].tolist(), rel=1e-12)


def test_cliffs_delta_interval_holds_the_delta():
    a, b = [0.3, 0.5, 0.7, 0.4, 0.9], [0.35, 0.55, 0.6, 0.45, 0.2]
    low, high = cliffs_delta_ci(a, b)
    assert low <= cliffs_delta(a, b) <= high and -1 <= low < high <= 1
    assert cliffs_delta_ci(a, b) == (low, high)
    # perfectly separated: the score interval still reaches inwards, unlike a bootstrap's
    low, high = cliffs_delta_ci([1.0, 2.0, 3.0], [math.inf, math.inf, math.inf])
    assert low == -1.0 and -1.0 < high < 0.5
    assert all(math.isnan(v) for v in cliffs_delta_ci([1.0], [2.0, 3.0]))


def test_the_score_p_value_is_the_one_the_interval_inverts():
    a, b = [0.3, 0.5, 0.7, 0.4, 0.9, 1.1], [0.35, 0.55, 0.6, 0.45, 0.2, 0.1]
    for bound in (-0.5, 0.0, 0.4, 0.9):
        for side in ("above", "below"):
            p = cliffs_delta_p_beyond(a, b, bound, side)
            if not 1e-6 < p < 0.5:
                continue
            end = 0 if side == "above" else 1  # the near end at 1 - 2p sits on the bound
            assert cliffs_delta_ci(a, b, 1 - 2 * p)[end] == pytest.approx(bound, abs=1e-6)


def _mean_interval(values, value_range=UNBOUNDED):
    return lambda confidence: (lambda e: (e.low, e.high))(mean_ci(values, value_range,
                                                                  confidence))


@pytest.mark.parametrize("values, value_range", [
    ([0.9, 0.95, 1.0, 0.7], UNBOUNDED), ([0.2, 0.6, 0.7, 0.4, 0.9], CORRELATION),
    ([3, 5, 4, 6], counts(8))])
def test_the_interval_p_value_is_the_level_where_the_interval_reaches_the_bound(values,
                                                                              value_range):
    p = 2 * p_beyond(_mean_interval(values, value_range), 0.5, "above")  # two-sided
    assert 0 < p < 1
    inside = mean_ci(values, value_range, 1 - p * 0.999)
    outside = mean_ci(values, value_range, 1 - p * 1.001)
    assert inside.low <= 0.5 <= inside.high
    assert not outside.low <= 0.5 <= outside.high


def test_the_interval_p_value_of_a_t_interval_is_the_one_sample_t_test():
    values = [0.9, 0.95, 1.0, 0.7]
    expected = stats.ttest_1samp(values, 0.5).pvalue
    assert 2 * p_beyond(_mean_interval(values), 0.5, "above") == pytest.approx(expected,
                                                                            rel=1e-5)


def test_a_falling_series_improves_and_a_plateau_does_not():
    steps = np.arange(0, 1000, 100)
    falling = final_trend(steps, 2.0 - 0.001 * steps + 0.01 * np.sin(steps))
    assert falling.points == 4 and falling.high < 0
    assert falling.change == pytest.approx(-0.3 / 1.4, abs=0.02)  # 1.4 -> 1.1 from step 600
    plateau = final_trend(steps, np.r_[np.linspace(2, 1, 6), [1.0, 1.01, 0.99, 1.0]])
    assert plateau.low <= 0 <= plateau.high
    assert final_trend([0, 100], [1.0, 0.5]) is None  # too few checkpoints
    assert final_trend(steps, np.full(len(steps), np.nan)) is None


