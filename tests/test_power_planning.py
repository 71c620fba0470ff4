"""Seeds planned by the rules (bench.stats.power through bench.analysis.rules), against the
textbook: from 8-seed pilots of normal shifts, the median plan lies within 25% of Noether's
(1987) sample size for the Mann-Whitney test; a plan is made at the level it is asked for
and never gives up on a real effect because a small pilot saw little of it."""

import math

import numpy as np
import pytest
from scipy import stats

from bench.analysis.rules import directional, threshold
from bench.core.specs import ClaimsSpec
from bench.stats.power import mean_difference_seeds, rank_equivalence_seeds

SPEC = ClaimsSpec()


def noether_per_arm(shift: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Noether (1987): N = (z_{1-alpha} + z_{power})^2 / (12 c (1 - c) (p - 1/2)^2) in all,
    c = 1/2 per arm, p = P(X > Y) = Phi(shift / sqrt 2) for unit normals."""
    p = stats.norm.cdf(shift / math.sqrt(2))
    total = (stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)) ** 2 / (
        12 * 0.25 * (p - 0.5) ** 2)
    return total / 2


@pytest.mark.parametrize("shift", [0.5, 1.0, 2.0])
def test_the_median_plan_from_8_seed_pilots_is_noethers(shift):
    rng = np.random.default_rng(int(shift * 10))
    plans = [directional(rng.normal(shift, 1, 8), rng.normal(0, 1, 8), "higher", SPEC)
             .seeds_for(0.05, 0.05).needed for _ in range(400)]
    median, textbook = float(np.median(plans)), noether_per_arm(shift)
    assert abs(median - textbook) <= 0.25 * textbook, (median, textbook)


def test_a_plan_at_a_stricter_level_needs_more_seeds():
    rng = np.random.default_rng(0)
    outcome = directional(rng.normal(1, 1, 6), rng.normal(0, 1, 6), "higher", SPEC)
    assert outcome.seeds_for(0.001, 0.001).needed > outcome.seeds_for(0.05, 0.05).needed


def test_a_pilot_that_saw_no_effect_still_plans_on_a_plausible_one():
    """4 seeds of a 1-SD effect that happened to show none: the observed effect plans
    equivalence (or nothing), the interval's far end a difference within reach."""
    outcome = directional([0.1, 0.5, -0.3, 0.9], [0.0, 0.6, -0.2, 0.8], "higher", SPEC)
    plan = outcome.seeds_for(0.05, 0.05)
    assert plan.plausible < plan.needed and plan.plausible <= 12
    assert "its interval's end" in plan.text


def test_equivalence_plans_grow_as_the_effect_nears_the_margin():
    sizes = [rank_equivalence_seeds(d, 0.33, 0.05) for d in (0.0, 0.1, 0.2, 0.3)]
    assert sizes == sorted(sizes) and math.isinf(rank_equivalence_seeds(0.33, 0.33, 0.05))


def test_a_mean_plan_is_the_normal_sample_size_with_guenthers_correction():
    # (1.645 + 0.842)^2 (1 / 0.5)^2 + 1.645^2 / 2 = 24.7 + 1.35 -> 27 seeds
    assert mean_difference_seeds(0.5, 1.0, 0.05) == 27
    outcome = threshold([0.6, 0.7, 0.5, 0.65], 0.5, "above", SPEC)
    assert outcome.seeds_for(0.05, 0.05).needed >= 4
