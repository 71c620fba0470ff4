"""Seed comparisons and verdict rules on constructed results."""

import math

import numpy as np
import pytest

from bench.analysis.family import ANY, overall
from bench.analysis.rules import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    REVERSED,
    directional,
    threshold,
)
from bench.core.specs import ClaimsSpec
from bench.stats import BCA_FROM_N
from bench.stats.tests import cliffs_delta, compare_seeds

SPEC = ClaimsSpec(alpha=0.05, min_seeds=3, min_effect=0.33)


def test_cliffs_delta_by_hand():
    a, b = [3.0, 4.0], [1.0, 2.0, 5.0]
    # greater: 3>1, 3>2, 4>1, 4>2 = 4; less: 3<5, 4<5 = 2; delta = (4 - 2) / 6
    assert cliffs_delta(a, b) == pytest.approx(1 / 3)
    assert cliffs_delta([math.inf, math.inf], [math.inf, 1.0]) == pytest.approx(0.5)


def test_mann_whitney_p_values_are_exact_for_three_seeds():
    result = compare_seeds([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    # 1 of the C(6, 3) = 20 splits is as extreme as this one
    assert result.p_less == pytest.approx(1 / 20)
    assert result.p_greater == pytest.approx(1.0)
    assert result.cliffs_delta == -1.0
    tied = compare_seeds([8.0, 8.0, 8.0], [8.0, 8.0, 8.0])
    assert tied.p_less == pytest.approx(1.0) and tied.cliffs_delta == 0.0


def test_clear_win_is_reproduced():
    outcome = directional([0.30, 0.31, 0.29, 0.30], [0.60, 0.62, 0.58, 0.65], "lower", SPEC,
                          ("wgan-gp", "wgan-clip"))
    assert outcome.verdict == REPRODUCED
    assert outcome.p_value <= SPEC.alpha and outcome.effect_size == 1.0
    assert "wgan-gp" in outcome.evidence and "Mann-Whitney" in outcome.evidence


def test_clear_loss_is_not_reproduced():
    outcome = directional([8.0, 7.0, 8.0], [2.0, 1.0, 3.0], "lower", SPEC)
    assert outcome.verdict == NOT_REPRODUCED


def test_overlapping_groups_are_inconclusive():
    outcome = directional([0.3, 0.5, 0.7, 0.4], [0.35, 0.55, 0.6, 0.45], "lower", SPEC)
    assert outcome.verdict == INCONCLUSIVE


def test_too_few_seeds_is_inconclusive_even_when_separated():
    outcome = directional([1.0, 2.0], [5.0, 6.0, 7.0], "lower", SPEC)
    assert outcome.verdict == INCONCLUSIVE and "too few seeds" in outcome.evidence


def test_diverged_runs_rank_as_the_worst_outcome():
    # every clipped run diverged (+inf distance): the penalty wins by ranks
    outcome = directional([0.3, 0.4, 0.35], [math.inf] * 3, "lower", SPEC)
    assert outcome.verdict == REPRODUCED and "3 diverged" in outcome.evidence


def test_threshold_rule_uses_the_ci_of_the_mean():
    outcome = threshold([0.9, 0.95, 1.0], 0.5, "above", SPEC)
    assert outcome.verdict == REPRODUCED and "90% CI (Student-t)" in outcome.evidence
    assert threshold([0.9, 0.95, 1.0], 0.5, "below", SPEC).verdict == NOT_REPRODUCED
    assert threshold([0.0, 0.5, 1.0], 0.5, "above", SPEC).verdict == INCONCLUSIVE
    assert threshold([0.9, 1.0], 0.5, "above", SPEC).verdict == INCONCLUSIVE


def test_three_seeds_above_the_bound_are_not_enough_when_they_spread():
    # every seed is above 0.5, but the one-sided t bound 0.48 of their mean is not: a
    # bootstrap interval of 3 values cannot reach below the smallest and called it reproduced
    outcome = threshold([0.6, 0.9, 1.0], 0.5, "above", SPEC)
    assert outcome.verdict == INCONCLUSIVE and "[0.482, 1.18]" in outcome.evidence


def test_threshold_rule_switches_to_bca_with_many_seeds():
    outcome = threshold(np.resize([0.6, 0.9, 1.0], BCA_FROM_N), 0.5, "above", SPEC)
    assert outcome.verdict == REPRODUCED and "(BCa bootstrap) [" in outcome.evidence


def test_a_claim_needs_every_check():
    assert overall([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert overall([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert overall([REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]) == NOT_REPRODUCED
    assert overall([]) == INCONCLUSIVE


def test_an_any_of_claim_needs_one_check():
    assert overall([REPRODUCED, NOT_REPRODUCED], ANY) == REPRODUCED
    assert overall([NOT_REPRODUCED, INCONCLUSIVE], ANY) == INCONCLUSIVE
    assert overall([NOT_REPRODUCED, NOT_REPRODUCED], ANY) == NOT_REPRODUCED


def test_a_diverged_run_in_a_threshold_check_counts_as_the_worst_value():
    from bench.stats import UNIT
    kept = threshold([0.6, 0.62, 0.64, 0.66], 0.2, "above", SPEC, value_range=UNIT)
    worst = threshold([0.6, 0.62, 0.64, 0.66, math.inf], 0.2, "above", SPEC,
                      value_range=UNIT)
    assert "1 diverged run(s) counted as the worst value, 0" in worst.evidence
    assert worst.effect_size < kept.effect_size  # the mean fell: not dropped silently
    # unbounded below: the mean is -inf, so "above 2" cannot hold however far above the
    # finite runs lie (they alone would reproduce it), and no number of seeds changes that
    finite = [3.1, 3.3, 3.2, 3.25, 3.15]
    assert threshold(finite, 2.0, "above", SPEC).verdict == REPRODUCED
    unbounded = threshold([*finite, -math.inf], 2.0, "above", SPEC)
    assert "1 diverged run(s) at the range's unbounded worst end: the mean is infinite" \
        in unbounded.evidence
    assert unbounded.verdict == INCONCLUSIVE and unbounded.seeds_for is None
    # the finite runs' own reversal still refutes the claim
    below = threshold([1.1, 1.3, 1.2, 1.25, -math.inf], 2.0, "above", SPEC)
    assert below.verdict == NOT_REPRODUCED and below.refuted_by == REVERSED


def test_a_check_short_of_usable_seeds_plans_at_the_rate_seen():
    # 2 of 4 runs gave a value: 6 runs would give the 3 the rule needs
    outcome = threshold([0.7, math.nan, 0.8, math.nan], 0.5, "above", SPEC)
    plan = outcome.seeds_for(0.05, 0.05)
    assert outcome.verdict == INCONCLUSIVE and plan.needed == plan.plausible == 6
    none = threshold([math.nan] * 4, 0.5, "above", SPEC).seeds_for(0.05, 0.05)
    assert math.isinf(none.plausible) and "none of 4 gave a value" in none.text
