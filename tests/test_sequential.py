"""Group-sequential alpha spending (bench.stats.sequential): its boundaries, and a simulation
of the whole sequential procedure under the null.

The procedure the until-decided runner follows: seeds are added to both arms in rounds of 4
up to 20 per arm, and after every round the one-sided Mann-Whitney p-value of all seeds so far
is compared with that look's nominal level. Arms are identical, so every rejection is a false
verdict. Alpha spending keeps their rate at or below alpha; re-testing each look at a fixed
alpha does not.
"""

import math

import numpy as np
import pytest
from scipy import stats

from bench.stats.sequential import first_rejection, nominal_levels, obrien_fleming_spent

ALPHA = 0.05
LOOKS = (4, 8, 12, 16, 20)  # seeds per arm after each round
FRACTIONS = tuple(n / LOOKS[-1] for n in LOOKS)


def test_spending_function_ends_at_alpha_and_spends_little_early():
    assert obrien_fleming_spent(1.0, ALPHA) == pytest.approx(ALPHA)
    assert obrien_fleming_spent(0.2, ALPHA) < 1e-4
    with pytest.raises(ValueError):
        obrien_fleming_spent(0.0, ALPHA)


def test_boundaries_match_the_published_lan_demets_obrien_fleming_design():
    # gsDesign(k = 5, test.type = 1, alpha = 0.025, sfu = sfLDOF) upper bounds:
    # 4.8769, 3.3569, 2.6803, 2.2898, 2.0310
    published = (4.8769, 3.3569, 2.6803, 2.2898, 2.0310)
    levels = nominal_levels(FRACTIONS, 0.025)
    z = [stats.norm.isf(level) for level in levels]
    assert z == pytest.approx(published, abs=2e-4)
    assert nominal_levels([1.0], ALPHA) == pytest.approx([ALPHA], abs=1e-6)
    with pytest.raises(ValueError, match="increase"):
        nominal_levels([0.5, 0.5], ALPHA)


def false_verdict_rates(repetitions: int) -> tuple[float, float]:
    """(alpha spending, fixed alpha at every look): shares of null repetitions with a
    rejection at some look."""
    rng = np.random.default_rng(2026)
    a = rng.standard_normal((repetitions, LOOKS[-1]))
    b = rng.standard_normal((repetitions, LOOKS[-1]))
    p = np.stack([stats.mannwhitneyu(a[:, :n], b[:, :n], axis=1, alternative="greater",
                                     method="exact").pvalue for n in LOOKS], axis=1)
    spending = np.mean([first_rejection(row, FRACTIONS, ALPHA) is not None for row in p])
    naive = np.mean((p <= ALPHA).any(axis=1))
    return float(spending), float(naive)


@pytest.mark.parametrize("repetitions", [
    2_000, pytest.param(40_000, marks=pytest.mark.slow)])
def test_alpha_spending_keeps_false_verdicts_at_alpha_and_fixed_alpha_does_not(repetitions):
    spending, naive = false_verdict_rates(repetitions)
    error = 2 * math.sqrt(ALPHA * (1 - ALPHA) / repetitions)  # two Monte-Carlo SEs
    assert spending <= ALPHA + error
    assert naive > ALPHA + error
