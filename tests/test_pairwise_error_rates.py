"""Error rates of the pairwise families (bench.analysis.pairwise, the study's tuned verdicts),
simulated through the production rules with normal seeds:

- a wrong direction anywhere in the family: at most alpha when no arm differs, and when two
  equal arms sit among others far from them (Holm over both directions of every pair);
- a wrong "equivalent" for a pair whose Cliff's delta sits on the margin: at most alpha;
- a wrong "no pair differs by the margin" for a family with one arm on the margin from the
  others: at most alpha (every pair must be equivalent).

Each directional check costs milliseconds and a family of k arms makes k (k - 1) of them, so
the fast versions (run by default) are small smoke tests; the thorough ones, marked slow,
measure the rates."""

import itertools

import numpy as np
import pytest

from bench.analysis.pairwise import NONE_DIFFER, Group, judge_pairs
from bench.analysis.rules import EQUIVALENT
from bench.core.outputs import HIGHER
from bench.core.specs import ClaimsSpec
from tests.test_verdict_error_rates import MARGIN_SHIFT, _error

SPEC = ClaimsSpec()
ALPHA = SPEC.alpha


def _family(shifts: list[float], n: int, rng: np.random.Generator):
    """One family of every pair of arms with normal ``shifts`` (higher better)."""
    groups = [Group(str(i), rng.normal(s, 1, n)) for i, s in enumerate(shifts)]
    return judge_pairs(list(itertools.combinations(groups, 2)), HIGHER, SPEC)


def _wrong_direction(shifts: list[float], n: int, rng: np.random.Generator) -> bool:
    """Whether any decided direction names the worse (or an equal) arm as better."""
    _, pairs = _family(shifts, n, rng)
    return any(p.winner and shifts[int(p.winner)] <= shifts[int(p.b if p.winner == p.a
                                                                else p.a)]
               for p in pairs)


@pytest.mark.parametrize("shifts, n, runs", [
    pytest.param([0.0, 0.0, 3.0], 5, 80, id="fast"),
    pytest.param([0.0] * 4, 10, 2000, id="thorough-null", marks=pytest.mark.slow),
    pytest.param([0.0, 0.0, 3.0, 3.0], 8, 2000, id="thorough-two-null-pairs",
                 marks=pytest.mark.slow),
])
def test_a_wrong_direction_anywhere_in_the_family_is_at_most_alpha(shifts, n, runs):
    """Measured (slow, 2,000 families): 4 equal arms at 10 seeds 3.6%; two equal pairs 3 SD
    apart at 8 seeds 2.2%."""
    rng = np.random.default_rng(n + len(shifts))
    rate = np.mean([_wrong_direction(shifts, n, rng) for _ in range(runs)])
    assert rate <= ALPHA + _error(ALPHA, runs), rate


@pytest.mark.parametrize("n, runs", [pytest.param(30, 100, id="fast"),
                                     pytest.param(30, 4000, id="thorough-30",
                                                  marks=pytest.mark.slow)])
def test_a_pair_on_the_margin_is_called_equivalent_at_most_alpha(n, runs):
    """Measured (slow, 4,000 runs): 5.2% at 30 seeds per arm (99% Monte-Carlo error +-0.9%:
    at its level within what the simulation resolves)."""
    rng = np.random.default_rng(n)
    rate = np.mean([_family([MARGIN_SHIFT, 0.0], n, rng)[1][0].verdict == EQUIVALENT
                    for _ in range(runs)])
    assert rate <= ALPHA + _error(ALPHA, runs), rate


@pytest.mark.parametrize("n, runs", [pytest.param(30, 60, id="fast"),
                                     pytest.param(30, 3000, id="thorough-30",
                                                  marks=pytest.mark.slow)])
def test_a_family_with_an_arm_on_the_margin_is_said_to_have_no_difference_at_most_alpha(
        n, runs):
    """Two equal arms and one on the margin from both. Measured (slow, 3,000 runs): 1.1%
    at 30 seeds per arm."""
    rng = np.random.default_rng(100 + n)
    rate = np.mean([_family([0.0, 0.0, MARGIN_SHIFT], n, rng)[0] == NONE_DIFFER
                    for _ in range(runs)])
    assert rate <= ALPHA + _error(ALPHA, runs), rate
