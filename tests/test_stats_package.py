"""bench.stats's smaller pieces on hand-made values: Holm, Cliff's delta's interval, the
p-value an interval inverts, Theil-Sen trends and the power search."""

import math

import numpy as np
import pytest
from scipy import stats

from bench.stats import CORRELATION, UNBOUNDED, counts, interval_p_value, mean_ci
from bench.stats.power import power_at, seeds_needed
from bench.stats.tests import cliffs_delta, cliffs_delta_ci, holm
from bench.stats.trend import final_trend


def test_holm_by_hand_and_untested_checks_left_out():
    # sorted 0.01, 0.02, 0.04: 3 x 0.01, max(0.03, 2 x 0.02), max(0.04, 0.04)
    assert holm([0.04, 0.01, math.nan, 0.02]) == pytest.approx([0.04, 0.03, math.nan, 0.04],
                                                               nan_ok=True)
    assert holm([math.nan]) == [pytest.approx(math.nan, nan_ok=True)]


def test_cliffs_delta_interval_holds_the_delta():
    a, b = [0.3, 0.5, 0.7, 0.4, 0.9], [0.35, 0.55, 0.6, 0.45, 0.2]
    low, high = cliffs_delta_ci(a, b)
    assert low <= cliffs_delta(a, b) <= high and -1 <= low < high <= 1
    assert cliffs_delta_ci(a, b) == (low, high)  # seeded
    assert cliffs_delta_ci([1.0, 2.0], [math.inf, math.inf]) == (-1.0, -1.0)
    assert all(math.isnan(v) for v in cliffs_delta_ci([1.0], [2.0, 3.0]))


@pytest.mark.parametrize("values, value_range", [
    ([0.9, 0.95, 1.0, 0.7], UNBOUNDED), ([0.2, 0.6, 0.7, 0.4, 0.9], CORRELATION),
    ([3, 5, 4, 6], counts(8))])
def test_the_interval_p_value_is_the_level_where_the_interval_reaches_the_bound(values,
                                                                              value_range):
    p = interval_p_value(values, 0.5, value_range)
    assert 0 < p < 1
    inside = mean_ci(values, value_range, 1 - p * 0.999)
    outside = mean_ci(values, value_range, 1 - p * 1.001)
    assert inside.low <= 0.5 <= inside.high
    assert not outside.low <= 0.5 <= outside.high


def test_the_interval_p_value_of_a_t_interval_is_the_one_sample_t_test():
    values = [0.9, 0.95, 1.0, 0.7]
    expected = stats.ttest_1samp(values, 0.5).pvalue
    assert interval_p_value(values, 0.5) == pytest.approx(expected, rel=1e-5)


def test_a_falling_series_improves_and_a_plateau_does_not():
    steps = np.arange(0, 1000, 100)
    falling = final_trend(steps, 2.0 - 0.001 * steps + 0.01 * np.sin(steps))
    assert falling.points == 4 and falling.high < 0
    assert falling.change == pytest.approx(-0.3 / 1.4, abs=0.02)  # 1.4 -> 1.1 from step 600
    plateau = final_trend(steps, np.r_[np.linspace(2, 1, 6), [1.0, 1.01, 0.99, 1.0]])
    assert plateau.low <= 0 <= plateau.high
    assert final_trend([0, 100], [1.0, 0.5]) is None  # too few checkpoints
    assert final_trend(steps, np.full(len(steps), np.nan)) is None


def test_power_grows_with_seeds_and_the_search_finds_its_first_n():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.5, 3.5, 4.5, 5.5])

    def decides(xs, ys):
        return stats.mannwhitneyu(xs, ys, axis=1, method="asymptotic").pvalue <= 0.05

    powers = [power_at(a, b, n, decides) for n in (4, 8, 16, 32)]
    assert powers == sorted(powers) and powers[-1] > 0.9
    n = seeds_needed(a, b, decides, start=4, max_seeds=100)
    assert power_at(a, b, n, decides) >= 0.8 > power_at(a, b, n - 1, decides)
    assert seeds_needed(a, a, decides, start=4, max_seeds=20) is None  # the null
