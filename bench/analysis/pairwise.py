"""Comparisons with no claimed direction (is A better than B, B better than A, or are they
equivalent?), a family of pairs judged by the claims' rules (bench.analysis.rules,
bench.analysis.family).

Each pair {A, B} is two directional checks, "A better than B" and "B better than A": the
one-sided Mann-Whitney test each way, Cliff's delta with its score interval and TOST within
``min_effect`` (``rules.directional``). The pairs of one question (e.g. the optimizers of
one GAN on one dataset) form one family of "any of" logic (``family.ANY``):

- a pair's direction is decided when its check is, after Holm's correction across the
  family's checks, both directions of every pair (two-sided tests, Holm over the pairs):
  the chance of any wrong direction in the family is at most alpha;
- a pair is equivalent when TOST puts its Cliff's delta inside +-``min_effect`` at alpha,
  each pair on its own; the family says that no pair differs by the margin only when every
  pair is equivalent (intersection-union, at alpha);
- an undecided pair gets the seeds per arm that would decide it (``rules.Plan``), planned at
  the level it faces: Holm's strictest step for a direction, alpha for equivalence.

tests/test_pairwise_error_rates.py simulates each kind of wrong verdict.
"""

from dataclasses import dataclass

import numpy as np

from bench.analysis.family import ANY, Judged, judge_family, overall
from bench.analysis.rules import (
    EQUIVALENT,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    directional,
)
from bench.core.specs import ClaimsSpec
from bench.stats import UNBOUNDED, Range

DIFFER = "some pair differs"
"""A family's verdict when some pair's direction is decided."""
NONE_DIFFER = "no pair differs by the margin"
"""A family's verdict when every pair is equivalent."""
FAMILY_VERDICTS = {REPRODUCED: DIFFER, NOT_REPRODUCED: NONE_DIFFER, INCONCLUSIVE: INCONCLUSIVE}


@dataclass(frozen=True)
class Group:
    """One side of a pair: its name and its seeds' values (+-inf: diverged, the worst)."""

    name: str
    values: np.ndarray


@dataclass(frozen=True)
class PairVerdict:
    a: str
    b: str
    verdict: str
    """'<winner> better than <loser>', EQUIVALENT or INCONCLUSIVE."""
    winner: str
    """The better arm's name; "" unless a direction is decided."""
    evidence: str
    p_a_better: float
    """One-sided p-value of "A better than B" (the other direction's is ``p_b_better``)."""
    p_b_better: float
    p_adjusted: float
    """Holm-adjusted p-value of the direction the data favour, over the family's checks."""
    p_equivalent: float
    """TOST p-value of |Cliff's delta| < ``margin``."""
    cliffs_delta: float
    """Cliff's delta, > 0 when A is better, with its (1 - 2 alpha) score interval."""
    delta_low: float
    delta_high: float
    margin: float
    seeds_needed: float
    """Seeds per arm that would decide an undecided pair (NaN: decided, or no number
    would); ``seeds_plausible`` the same planned on its interval's far end."""
    seeds_plausible: float


def _merged(ab: Judged, ba: Judged, a: str, b: str) -> tuple[str, str, Judged]:
    """(verdict, winner, the check it rests on) of a pair from its two judged checks: a
    direction only where Holm's correction leaves it (the "reversed" of the other check is
    uncorrected, so it decides nothing here)."""
    if ab.outcome.verdict == REPRODUCED:
        return f"{a} better than {b}", a, ab
    if ba.outcome.verdict == REPRODUCED:
        return f"{b} better than {a}", b, ba
    if ab.outcome.refuted_by == EQUIVALENT:
        return EQUIVALENT, "", ab
    return INCONCLUSIVE, "", ab if ab.outcome.verdict == INCONCLUSIVE else ba


def judge_pairs(pairs: list[tuple[Group, Group]], better: str, spec: ClaimsSpec,
                value_range: Range = UNBOUNDED) -> tuple[str, list[PairVerdict]]:
    """The family's verdict (``FAMILY_VERDICTS``) and each pair's, the arms' values compared
    in the direction ``better`` (bench.core.outputs' LOWER or HIGHER) at ``spec.alpha``."""
    checks = [directional(x.values, y.values, better, spec, (x.name, y.name), value_range)
              for a, b in pairs for x, y in ((a, b), (b, a))]
    judged = judge_family([(o, (), ()) for o in checks], None, spec, ANY)
    tested = sum(o.tested for o in checks)
    verdicts = []
    for (a, b), ab, ba in zip(pairs, judged[::2], judged[1::2], strict=True):
        verdict, winner, basis = _merged(ab, ba, a.name, b.name)
        evidence = basis.outcome.evidence
        if winner:
            evidence += (f"; Holm-adjusted p={basis.p_adjusted:.3g} over the family's "
                         f"{tested} tested checks")
        outcome = ab.outcome
        verdicts.append(PairVerdict(
            a.name, b.name, verdict, winner, evidence, outcome.p_value, outcome.p_reversed,
            float(np.fmin(ab.p_adjusted, ba.p_adjusted)), outcome.p_equivalent,
            outcome.effect_size, outcome.effect_low, outcome.effect_high, outcome.margin,
            basis.seeds_needed, basis.seeds_plausible))
    return FAMILY_VERDICTS[overall([j.outcome.verdict for j in judged], ANY)], verdicts
