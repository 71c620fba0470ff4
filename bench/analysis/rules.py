"""Verdict rules: how a check of a claim turns seed-level numbers into a verdict.

Every check is two questions about one effect, each a one-sided test at the level the check
faces (``spec.alpha``, or a look's level under ``run --until-decided``):

- **does the claimed effect exist?** Reproduced when the test in the claimed direction
  rejects;
- **is it absent?** Not reproduced when the effect is significantly reversed, or when it is
  shown to lie within the claim's margin of no effect (equivalence, Schuirmann's TOST: the
  (1 - 2 alpha) interval inside (-margin, +margin)). An effect that exists but is shown
  smaller than the margin is "not reproduced" too: the claim is about an effect that
  matters.

Both refutations imply that the effect is below the margin with confidence 1 - alpha, so
the chance of a wrong "not reproduced" when the true effect reaches the margin is at most
alpha, as is the chance of a wrong "reproduced" when there is no effect
(tests/test_verdict_error_rates.py).

Three rules:

- ``directional``: "A is better than B". The one-sided Mann-Whitney U test (exact
  permutation p) in each direction; the effect is Cliff's delta with its score interval
  (bench.stats.tests) and the margin ``min_effect``.
- ``threshold``: "the mean is above (or below) a bound". The effect is the mean's distance
  from the bound, its interval the mean's range-respecting one (bench.stats.mean_ci), the
  margin ``bound_margin`` x |bound|.
- ``paired_success``: "A succeeds on more of the same units than B" (units, e.g. random
  architectures, each tried once by both). The one-sided exact McNemar test in each
  direction; the effect is the difference of success fractions with Newcombe's paired
  interval, the margin ``paired_margin``.

Each outcome carries its p-values, its effect with the (1 - 2 alpha) interval the tests read,
and how to plan the seeds that would decide it: bench.analysis.family judges a claim's
checks together (the claim's logic, convergence, power).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from bench.core.outputs import DIRECTIONS, HIGHER, LOWER
from bench.core.specs import ClaimsSpec
from bench.stats import (
    METHOD_NAMES,
    UNBOUNDED,
    Estimate,
    Range,
    mean_ci,
    rate_ci,
)
from bench.stats.equivalence import ABOVE, BELOW, p_beyond, tost_p
from bench.stats.power import (
    mean_difference_seeds,
    mean_equivalence_seeds,
    paired_difference_pairs,
    paired_equivalence_pairs,
    rank_difference_seeds,
    rank_equivalence_seeds,
)
from bench.stats.tests import (
    cliffs_delta_ci,
    cliffs_delta_p_beyond,
    compare_seeds,
    mcnemar_greater,
    paired_difference_ci,
    paired_successes,
)

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
REVERSED, EQUIVALENT = "reversed", "equivalent"
"""Why a check is not reproduced: the opposite effect, or no effect as large as the margin."""


@dataclass(frozen=True)
class Plan:
    """Seeds per arm that would decide a check with 80% power (bench.stats.power)."""

    needed: float
    """Planned on the observed effect: the better guess (inf: no outcome reachable)."""
    plausible: float
    """Planned on the far end of the effect's interval, the largest effect the data leave
    plausible: a check is futile only when even this exceeds ``--max-seeds``."""
    text: str


SeedsFor = Callable[[float, float], Plan]
"""(level of the test for the effect, level of the tests against it) -> the plan."""


@dataclass(frozen=True)
class Outcome:
    """A verdict, the evidence behind it in words, and the tests' numbers (NaN if none)."""

    verdict: str
    evidence: str
    p_value: float = math.nan
    """One-sided p-value of the claimed effect (the claim's logic may correct it)."""
    p_reversed: float = math.nan
    """One-sided p-value of the opposite effect."""
    p_equivalent: float = math.nan
    """TOST p-value of "the effect lies inside +-margin"."""
    effect_size: float = math.nan
    effect_low: float = math.nan
    effect_high: float = math.nan
    """The effect's (1 - 2 alpha) interval: the one both one-sided tests and TOST read."""
    margin: float = math.nan
    """The effect the claim needs: smaller is "no effect" (equivalence)."""
    refuted_by: str = ""
    """REVERSED or EQUIVALENT when the verdict is not reproduced."""
    facts: str = ""
    """The evidence without the verdict's reason (``at`` appends the reason for a level)."""
    effect_name: str = "effect"
    reversal: str = "the opposite holds"
    """What a significant opposite effect means, in words."""
    seeds_for: SeedsFor | None = field(default=None, compare=False, repr=False)
    """How many seeds would decide the check (None: the rule has no such answer)."""

    @property
    def p_against(self) -> float:
        """p-value against the claim: the smaller of the reversal's and equivalence's. Both
        imply an effect below the margin at that level, so it is a valid p-value of "the
        effect reaches the margin" (what Holm corrects where one check refutes a claim)."""
        finite = [p for p in (self.p_reversed, self.p_equivalent) if not math.isnan(p)]
        return min(finite) if finite else math.nan

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p_value)

    def noted(self, note: str) -> "Outcome":
        """The outcome with ``note`` added to its evidence (kept when ``at`` decides it again)."""
        return replace(self, facts=self.facts + note, evidence=self.evidence + note)

    def at(self, alpha: float) -> "Outcome":
        """The outcome decided at level ``alpha``, its evidence ending with the reason. An
        outcome without a test (too few seeds) stays as it is."""
        if not self.tested:
            return self
        verdict, refuted_by = decide(self.p_value, self.p_reversed, self.p_equivalent, alpha)
        if verdict == REPRODUCED:
            reason = f"; significant at alpha={alpha:.3g}"
        elif refuted_by == EQUIVALENT:
            reason = (f"; not reproduced: the {self.effect_name} lies inside "
                      f"+-{self.margin:.3g} (TOST p={self.p_equivalent:.3g} <= {alpha:.3g})")
        elif refuted_by == REVERSED:
            reason = (f"; not reproduced: {self.reversal} (p={self.p_reversed:.3g} <= "
                      f"{alpha:.3g})")
        else:
            reason = (f"; neither the effect nor its absence within +-{self.margin:.3g} is "
                      f"significant at alpha={alpha:.3g} (TOST p={self.p_equivalent:.3g})")
        return replace(self, verdict=verdict, refuted_by=refuted_by,
                       evidence=self.facts + reason)


def decide(p_claimed: float, p_reversed: float, p_equivalent: float,
           alpha: float) -> tuple[str, str]:
    """(verdict, refuted_by) of one check at level ``alpha``. Equivalence comes first: an
    effect shown smaller than the margin is no reproduction, significant or not."""
    if p_equivalent <= alpha:
        return NOT_REPRODUCED, EQUIVALENT
    if p_claimed <= alpha:
        return REPRODUCED, ""
    if p_reversed <= alpha:
        return NOT_REPRODUCED, REVERSED
    return INCONCLUSIVE, ""


def _confidence(alpha: float) -> float:
    return 1 - 2 * alpha


def _mean_and_ci(est: Estimate) -> str:
    return f"{est.mean:.3g}" if est.n == 1 else est.format()  # n is written by the caller


def describe(values: np.ndarray | list[float], worst: str = "diverged",
             value_range: Range = UNBOUNDED) -> str:
    """'mean [95% CI] (n=N)' of the finite values, noting infinite ones as ``worst``."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    text = _mean_and_ci(mean_ci(x[np.isfinite(x)], value_range))
    n_inf = int(np.isinf(x).sum())
    text += f" (n={len(x)}" + (f", {n_inf} {worst}" if n_inf else "") + ")"
    return text


def _plan(difference: Callable[[float, float], float],
          equivalence: Callable[[float, float], float], effect: float, far: float,
          unit: str, effect_name: str) -> SeedsFor:
    """The rule's seeds plan: the fewer of the seeds that show a difference (at the level of
    the test for the claim) and those that show equivalence (at the level of the tests
    against it), planned on the observed ``effect``; and a difference planned on ``far``,
    the interval's end farthest from 0 (a small pilot's |effect| is often near 0 by
    chance: what the pilot still leaves plausible), named in the text when it needs fewer."""
    def seeds_for(level_for: float, level_against: float) -> Plan:
        n, outcome = min((difference(effect, level_for), "a difference"),
                         (equivalence(effect, level_against), "equivalence"))
        plausible = min(n, difference(far, level_for))
        text = (f"{unit} needed: {int(n)}, to show {outcome} (planned on the observed "
                f"{effect_name} {effect:+.3g})" if math.isfinite(n)
                else f"{unit} needed: no number, planned on the observed {effect_name} "
                     f"{effect:+.3g} (on the margin)")
        if plausible < n:
            text += f"; {int(plausible)} if the {effect_name} is {far:+.3g}, its interval's end"
        return Plan(n, plausible, text)
    return seeds_for


def _too_few(evidence: str, unit: str, minimum: int, runs: int, usable: int) -> Outcome:
    """An untested check: ``usable`` of its ``runs`` have a value (the rest diverged
    before measuring or were left out). Its plan: enough runs for ``minimum`` usable ones
    at the rate seen (the next look plans on what they show); none when no run was usable
    out of ``minimum`` or more."""
    if usable == 0 and runs >= minimum:
        plan = Plan(math.inf, math.inf, f"{unit} needed: unknown, none of {runs} gave a value")
    else:
        n = math.ceil(minimum * runs / usable) if usable else minimum
        plan = Plan(n, n, f"{unit} needed before it can be tested: {n}")
    return Outcome(INCONCLUSIVE, f"{evidence}; too few {unit} (fewer than {minimum})",
                   seeds_for=lambda *_: plan)


def _worst_counted(x: np.ndarray, side: str,
                   value_range: Range) -> tuple[np.ndarray, str, bool]:
    """A threshold check's values with diverged runs (+-inf) counted as the worst value the
    range allows on the claimed side, the note that says so ("" when none diverged), and
    whether that worst value is unbounded: then the mean is infinite on the wrong side, and
    the values returned are the finite runs only (for the interval the report prints)."""
    diverged = np.isinf(x)
    if not diverged.any():
        return x, "", False
    worst = value_range.low if side == ABOVE else value_range.high
    if not math.isfinite(worst):
        return x[~diverged], (f"; {int(diverged.sum())} diverged run(s) at the range's "
                              f"unbounded worst end: the mean is infinite, so it cannot lie "
                              f"{side} the bound (the interval is of the finite runs)"), True
    return np.where(diverged, worst, x), (f"; {int(diverged.sum())} diverged run(s) counted "
                                          f"as the worst value, {worst:g}"), False


def _far_end(low: float, high: float) -> float:
    return high if abs(high) >= abs(low) else low


def _oriented_delta_ci(a: np.ndarray, b: np.ndarray, sign: int):
    def interval_at(confidence: float) -> tuple[float, float]:
        low, high = sorted(sign * v for v in cliffs_delta_ci(a, b, confidence))
        return low, high
    return interval_at


def _finite(values: np.ndarray | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def directional(
    a: np.ndarray | list[float], b: np.ndarray | list[float], better: str, spec: ClaimsSpec,
    names: tuple[str, str] = ("A", "B"), value_range: Range = UNBOUNDED,
) -> Outcome:
    """Is group A better than group B (``better``: "higher" or "lower")? Decided at
    ``spec.alpha`` with the margin ``spec.min_effect``; inconclusive with fewer than
    ``spec.min_seeds`` seeds a side. ``value_range`` bounds the means' intervals in the
    evidence."""
    if better not in DIRECTIONS:
        raise ValueError(f"better must be {HIGHER!r} or {LOWER!r}, got {better!r}")
    x, y = _finite(a), _finite(b)
    result = compare_seeds(x, y)
    evidence = (f"{names[0]} {describe(x, value_range=value_range)} vs "
                f"{names[1]} {describe(y, value_range=value_range)}")
    if min(result.n_a, result.n_b) < spec.min_seeds:
        short = min((np.size(a), len(x)), (np.size(b), len(y)), key=lambda t: t[1])
        return _too_few(evidence, "seeds", spec.min_seeds, *short)
    sign = 1 if better == HIGHER else -1  # delta > 0 supports the claim
    p_claimed, p_reversed = ((result.p_greater, result.p_less) if better == HIGHER
                             else (result.p_less, result.p_greater))
    interval_at = _oriented_delta_ci(x, y, sign)
    delta, confidence = sign * result.cliffs_delta, _confidence(spec.alpha)
    low, high = interval_at(confidence)
    plan = _plan(lambda d, level: rank_difference_seeds(d, level),
                 lambda d, level: rank_equivalence_seeds(d, spec.min_effect, level),
                 delta, _far_end(low, high), "seeds per arm",
                 "Cliff's delta")
    facts = (f"{evidence}; one-sided Mann-Whitney p={p_claimed:.3g}, Cliff's delta="
             f"{delta:+.2f}, {confidence:.0%} CI [{low:+.2f}, {high:+.2f}]")
    # TOST from the score test the interval inverts (the same decision, no bisection)
    p_equivalent = max(cliffs_delta_p_beyond(x, y, -sign * spec.min_effect,
                                             ABOVE if sign > 0 else BELOW),
                       cliffs_delta_p_beyond(x, y, sign * spec.min_effect,
                                             BELOW if sign > 0 else ABOVE))
    return Outcome(INCONCLUSIVE, facts, p_claimed, p_reversed, p_equivalent, delta, low, high,
                   spec.min_effect, facts=facts, effect_name="Cliff's delta",
                   seeds_for=plan).at(spec.alpha)


def threshold(
    values: np.ndarray | list[float], bound: float, side: str, spec: ClaimsSpec,
    name: str = "mean", value_range: Range = UNBOUNDED,
) -> Outcome:
    """Does the mean of ``values`` (inside ``value_range``) lie above (``side="above"``) or
    below ``bound``, by more than the margin ``spec.bound_margin`` x |bound|? The one-sided
    tests and TOST are read off the mean's interval (bench.stats.equivalence)."""
    if side not in (ABOVE, BELOW):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    raw = np.asarray(values, dtype=float)
    x, diverged, infinite_mean = _worst_counted(raw[~np.isnan(raw)], side, value_range)
    est = mean_ci(x, value_range)
    evidence = f"{name} {_mean_and_ci(est)} (n={est.n}) against {bound:g}{diverged}"
    if est.n < spec.min_seeds:
        return _too_few(evidence, "seeds", spec.min_seeds, len(raw), est.n)
    margin = spec.bound_margin * abs(bound) if bound else spec.bound_margin

    def interval_at(confidence: float) -> tuple[float, float]:
        ci = mean_ci(x, value_range, confidence)
        return ci.low, ci.high

    confidence = _confidence(spec.alpha)
    low, high = interval_at(confidence)
    sign = 1 if side == ABOVE else -1  # the distance from the bound, > 0 on the claimed side
    effect_low, effect_high = sorted(sign * (v - bound) for v in (low, high))
    effect = sign * (est.mean - bound)
    sd = float(np.std(x, ddof=1))
    plan = _plan(lambda e, level: mean_difference_seeds(e, sd, level),
                 lambda e, level: mean_equivalence_seeds(e, sd, margin, level),
                 effect, _far_end(effect_low, effect_high), "seeds",
                 "distance from the bound")
    p_claimed = p_beyond(interval_at, bound, side)  # a bisection: once
    facts = (f"{evidence}; {confidence:.0%} CI ({METHOD_NAMES[est.method]}) "
             f"[{low:.3g}, {high:.3g}], one-sided p={p_claimed:.3g} "
             f"that it lies {side}")
    p_equivalent = tost_p(interval_at, bound - margin, bound + margin)
    if infinite_mean:  # neither the claim nor equivalence can hold, whatever the seeds; the
        # finite runs' own reversal still refutes it
        p_claimed, p_equivalent, plan = 1.0, 1.0, None
    return Outcome(INCONCLUSIVE, facts, p_claimed,
                   p_beyond(interval_at, bound, BELOW if side == ABOVE else ABOVE),
                   p_equivalent, effect, effect_low,
                   effect_high, margin, facts=facts, effect_name="distance from the bound",
                   reversal=f"it lies {BELOW if side == ABOVE else ABOVE}",
                   seeds_for=plan).at(spec.alpha)


def paired_success(a: np.ndarray | list[bool], b: np.ndarray | list[bool], spec: ClaimsSpec,
                   names: tuple[str, str] = ("A", "B")) -> Outcome:
    """Does A succeed on more units than B, both tried on the same units (``a[i]``,
    ``b[i]``: unit i)? The one-sided exact McNemar test (bench.stats.tests) in each
    direction, and TOST on Newcombe's interval of the difference within
    ``spec.paired_margin``."""
    table = paired_successes(a, b)

    def rate(name: str, k: int) -> str:
        est = rate_ci(k, table.n)
        return f"{name} {k}/{table.n} succeed, {est.mean:.2f} [{est.low:.2f}, {est.high:.2f}]"

    rates = [rate(name, k) for name, k in zip(
        names, (table.both + table.only_a, table.both + table.only_b), strict=True)]
    evidence = (f"{rates[0]} vs {rates[1]}; discordant pairs: {table.only_a} {names[0]} "
                f"only, {table.only_b} {names[1]} only")
    if table.n < spec.min_seeds:
        return _too_few(evidence, "pairs", spec.min_seeds, table.n, table.n)
    margin = spec.paired_margin

    def interval_at(confidence: float) -> tuple[float, float]:
        return paired_difference_ci(table, confidence)

    p_claimed = float(mcnemar_greater(table.only_a, table.only_b))
    confidence = _confidence(spec.alpha)
    low, high = interval_at(confidence)
    # no discordant pair yet: plan on the rule-of-three bound of their fraction
    discordant = (table.only_a + table.only_b) / table.n or min(1.0, 3 / table.n)
    plan = _plan(lambda d, level: paired_difference_pairs(d, discordant, level),
                 lambda d, level: paired_equivalence_pairs(d, discordant, margin, level),
                 table.difference, _far_end(low, high), "pairs",
                 "difference of fractions")
    facts = (f"{evidence}; one-sided exact McNemar p={p_claimed:.3g}, difference of fractions "
             f"{table.difference:+.2f}, {confidence:.0%} CI [{low:+.2f}, {high:+.2f}] "
             "(Newcombe)")
    return Outcome(INCONCLUSIVE, facts, p_claimed,
                   float(mcnemar_greater(table.only_b, table.only_a)),
                   tost_p(interval_at, -margin, margin), table.difference, low, high, margin,
                   facts=facts, effect_name="difference of fractions",
                   seeds_for=plan).at(spec.alpha)
