"""Verdict rules: how a check of a claim turns seed-level numbers into a verdict.

Three rules, with thresholds from the suite's ``claims:`` section (ClaimsSpec):

- ``directional``: "A is better than B". Reproduced when the one-sided Mann-Whitney U test
  in the claimed direction has p <= alpha and |Cliff's delta| >= min_effect; not reproduced
  when the same holds in the opposite direction; inconclusive otherwise (the groups overlap)
  or when a group has fewer than min_seeds values.
- ``threshold``: "the mean is above (or below) a bound". Reproduced when the whole 95% CI
  of the mean over seeds (bench.stats.mean_ci, inside the quantity's range) lies on the
  claimed side; not reproduced when it lies wholly on the other side; inconclusive when it
  contains the bound or n < min_seeds. Its p-value is the one the interval inverts.
- ``paired_success``: "A succeeds on more of the same units than B" (units, e.g. random
  architectures, each tried once by both). Reproduced when the one-sided exact McNemar test
  on the discordant pairs has p <= alpha in the claimed direction, not reproduced when the
  opposite one-sided test does; inconclusive otherwise or with fewer than min_seeds pairs.
  The effect is the difference of success fractions with Newcombe's paired interval.

Each outcome carries its p-value, its effect with a CI (directional checks) and how to find
the seeds that would decide it: bench.analysis.family corrects a claim's checks together and
judges convergence and power in one place.

A claim made of several checks is reproduced when all are, not reproduced when any is, and
inconclusive otherwise (``overall``).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as scipy_stats

from bench.specs import ClaimsSpec
from bench.stats import (
    METHOD_NAMES,
    UNBOUNDED,
    Estimate,
    Range,
    interval_p_value,
    mean_ci,
    rate_ci,
)
from bench.stats.intervals import mean_intervals
from bench.stats.power import seeds_needed
from bench.stats.tests import (
    SeedComparison,
    cliffs_delta_ci,
    compare_seeds,
    delta_of_resamples,
    mcnemar_greater,
    paired_difference_ci,
    paired_successes,
)

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
MAX_SEEDS_SEARCHED = 100
"""The most seeds per arm the power search tries before saying 'more than this'."""
MAX_PAIRS_SEARCHED = 1000
"""The most paired units (architectures) the power search of ``paired_success`` tries; a
unit costs one short run per arm, not a full training run."""
POWER = 0.8

SeedsFor = Callable[[float], tuple[int | None, str]]
"""alpha the check is judged at -> (seeds per arm that decide it with POWER, or None; why,
in words, when None)."""


@dataclass(frozen=True)
class Outcome:
    """A verdict, the evidence behind it in words, and the test's numbers (NaN if none)."""

    verdict: str
    evidence: str
    p_value: float = math.nan
    """The p-value the verdict was decided by: Holm's family correction adjusts it."""
    effect_size: float = math.nan
    effect_low: float = math.nan
    effect_high: float = math.nan
    """The effect size's 95% CI."""
    seeds_for: SeedsFor | None = field(default=None, compare=False, repr=False)
    """How many seeds would decide the check (None: the rule has no such answer)."""


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


def _directional_seeds(a: np.ndarray, b: np.ndarray, delta: float,
                       spec: ClaimsSpec) -> SeedsFor:
    """Seeds per arm with which the directional rule decides, resampling the seeds seen."""
    def seeds_for(alpha: float) -> tuple[int | None, str]:
        if abs(delta) < spec.min_effect:
            return None, (f"no number of seeds would decide it: the observed |Cliff's delta| "
                          f"{abs(delta):.2f} is below min_effect {spec.min_effect:g}")

        def decides(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
            d = delta_of_resamples(xs, ys)
            # the normal approximation of U (tie-corrected): exact tables for 400 draws at
            # every n searched would take minutes
            p = {side: scipy_stats.mannwhitneyu(xs, ys, axis=1, alternative=side,
                                                method="asymptotic").pvalue
                 for side in ("greater", "less")}
            return (((p["greater"] <= alpha) & (d >= spec.min_effect))
                    | ((p["less"] <= alpha) & (-d >= spec.min_effect)))

        n = seeds_needed(a, b, decides, max(len(a), len(b)), MAX_SEEDS_SEARCHED, POWER)
        return n, "" if n else f"more than {MAX_SEEDS_SEARCHED} seeds per arm"
    return seeds_for


def directional_verdict(result: SeedComparison, better: str, spec: ClaimsSpec) -> str:
    """The directional rule on a seed comparison: reproduced when the one-sided test in the
    claimed direction is significant at ``spec.alpha`` and Cliff's delta reaches
    ``spec.min_effect`` that way, not reproduced when the same holds the other way,
    inconclusive otherwise (and with fewer than ``spec.min_seeds`` seeds a side)."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    if min(result.n_a, result.n_b) < spec.min_seeds:
        return INCONCLUSIVE
    # delta > 0 means A tends higher: orient it so that > 0 supports the claim
    delta = result.cliffs_delta if better == "higher" else -result.cliffs_delta
    p_claimed, p_opposite = ((result.p_greater, result.p_less) if better == "higher"
                             else (result.p_less, result.p_greater))
    if p_claimed <= spec.alpha and delta >= spec.min_effect:
        return REPRODUCED
    if p_opposite <= spec.alpha and -delta >= spec.min_effect:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def directional(
    a: np.ndarray | list[float], b: np.ndarray | list[float], better: str, spec: ClaimsSpec,
    names: tuple[str, str] = ("A", "B"), value_range: Range = UNBOUNDED,
) -> Outcome:
    """Is group A better than group B? ``better`` is "higher" or "lower"; ``value_range``
    bounds the means' intervals in the evidence. The verdict is ``directional_verdict``'s."""
    result = compare_seeds(a, b)
    verdict = directional_verdict(result, better, spec)
    evidence = (f"{names[0]} {describe(a, value_range=value_range)} vs "
                f"{names[1]} {describe(b, value_range=value_range)}")
    if min(result.n_a, result.n_b) < spec.min_seeds:
        return Outcome(INCONCLUSIVE, f"{evidence}; too few seeds (fewer than {spec.min_seeds})")
    sign = 1 if better == "higher" else -1
    delta = sign * result.cliffs_delta
    low, high = sorted(sign * v for v in cliffs_delta_ci(a, b))
    p_claimed, p_opposite = ((result.p_greater, result.p_less) if better == "higher"
                             else (result.p_less, result.p_greater))
    effect = f"Cliff's delta={delta:+.2f} [{low:+.2f}, {high:+.2f}]"
    x, y = (np.asarray(v, dtype=float) for v in (a, b))
    numbers = {"effect_size": delta, "effect_low": low, "effect_high": high,
               "seeds_for": _directional_seeds(x[~np.isnan(x)], y[~np.isnan(y)], delta, spec)}
    if verdict == REPRODUCED:
        return Outcome(REPRODUCED, f"{evidence}; one-sided Mann-Whitney p={p_claimed:.3g}, "
                       f"{effect}", p_claimed, **numbers)
    if verdict == NOT_REPRODUCED:
        return Outcome(NOT_REPRODUCED, f"{evidence}; the opposite holds: one-sided "
                       f"Mann-Whitney p={p_opposite:.3g}, {effect}", p_opposite, **numbers)
    return Outcome(INCONCLUSIVE, f"{evidence}; one-sided Mann-Whitney p={p_claimed:.3g}, "
                   f"{effect} (no significant difference at alpha={spec.alpha:g})",
                   p_claimed, **numbers)


def _threshold_seeds(x: np.ndarray, bound: float, value_range: Range) -> SeedsFor:
    """Seeds with which the mean's interval leaves ``bound``, resampling the seeds seen."""
    def seeds_for(alpha: float) -> tuple[int | None, str]:
        if x.mean() == bound:
            return None, "no number of seeds would decide it: the mean equals the bound"

        def decides(xs: np.ndarray, _: np.ndarray) -> np.ndarray:
            low, high, _ = mean_intervals(xs, value_range, 1 - alpha, n_resamples=999)
            return (low > bound) | (high < bound)

        n = seeds_needed(x, x, decides, len(x), MAX_SEEDS_SEARCHED, POWER)
        return n, "" if n else f"more than {MAX_SEEDS_SEARCHED} seeds"
    return seeds_for


def threshold(
    values: np.ndarray | list[float], bound: float, side: str, spec: ClaimsSpec,
    name: str = "mean", value_range: Range = UNBOUNDED,
) -> Outcome:
    """Does the mean of ``values`` (inside ``value_range``) lie above (``side="above"``) or
    below ``bound``? Decided by the 95% CI; its p-value is the one the interval inverts."""
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    est = mean_ci(x, value_range)
    evidence = f"{name} {_mean_and_ci(est)} (n={est.n}) against {bound:g}"
    if est.n < spec.min_seeds:
        return Outcome(INCONCLUSIVE, f"{evidence}; too few seeds (fewer than {spec.min_seeds})")
    p = interval_p_value(x, bound, value_range)
    ci, inverted = f"the 95% CI ({METHOD_NAMES[est.method]})", f" (p={p:.3g})"
    seeds_for = _threshold_seeds(x, bound, value_range)
    above, below = est.low > bound, est.high < bound
    if (above and side == "above") or (below and side == "below"):
        return Outcome(REPRODUCED, f"{evidence}: {ci} lies {side}{inverted}", p,
                       seeds_for=seeds_for)
    if above or below:
        return Outcome(NOT_REPRODUCED, f"{evidence}: {ci} lies "
                       f"{'above' if above else 'below'}{inverted}", p, seeds_for=seeds_for)
    return Outcome(INCONCLUSIVE, f"{evidence}: {ci} contains it{inverted}", p,
                   seeds_for=seeds_for)


def _paired_seeds(codes: np.ndarray) -> SeedsFor:
    """Pairs with which the paired rule decides, resampling the observed pairs jointly: each
    pair is coded 2 a + b, so one draw keeps A's and B's outcome on a unit together."""
    def seeds_for(alpha: float) -> tuple[int | None, str]:
        only_a, only_b = int((codes == 2).sum()), int((codes == 1).sum())
        if only_a == only_b:
            why = "no pair separates them" if only_a == 0 else "as many pairs favour each side"
            return None, f"no number of pairs would decide it: {why}"

        def decides(xs: np.ndarray, _: np.ndarray) -> np.ndarray:
            a, b = (xs == 2).sum(-1), (xs == 1).sum(-1)
            return (mcnemar_greater(a, b) <= alpha) | (mcnemar_greater(b, a) <= alpha)

        n = seeds_needed(codes, codes, decides, len(codes), MAX_PAIRS_SEARCHED, POWER)
        return n, "" if n else f"more than {MAX_PAIRS_SEARCHED} pairs"
    return seeds_for


def paired_success(a: np.ndarray | list[bool], b: np.ndarray | list[bool], spec: ClaimsSpec,
                   names: tuple[str, str] = ("A", "B")) -> Outcome:
    """Does A succeed on more units than B, both tried on the same units (``a[i]``,
    ``b[i]``: unit i)? Decided by the one-sided exact McNemar test (bench.stats.tests), in
    the claimed direction and the opposite one, at ``spec.alpha``."""
    table = paired_successes(a, b)
    def rate(name: str, k: int) -> str:
        est = rate_ci(k, table.n)
        return f"{name} {k}/{table.n} succeed, {est.mean:.2f} [{est.low:.2f}, {est.high:.2f}]"

    rates = [rate(name, k) for name, k in zip(
        names, (table.both + table.only_a, table.both + table.only_b), strict=True)]
    evidence = (f"{rates[0]} vs {rates[1]}; discordant pairs: {table.only_a} {names[0]} "
                f"only, {table.only_b} {names[1]} only")
    if table.n < spec.min_seeds:
        return Outcome(INCONCLUSIVE, f"{evidence}; too few pairs (fewer than {spec.min_seeds})")
    low, high = paired_difference_ci(table)
    effect = (f"difference of fractions {table.difference:+.2f} [{low:+.2f}, {high:+.2f}] "
              "(Newcombe)")
    numbers = {"effect_size": table.difference, "effect_low": low, "effect_high": high,
               "seeds_for": _paired_seeds(2 * np.asarray(a, dtype=int)
                                          + np.asarray(b, dtype=int))}
    p_claimed = float(mcnemar_greater(table.only_a, table.only_b))
    p_opposite = float(mcnemar_greater(table.only_b, table.only_a))
    if p_claimed <= spec.alpha:
        return Outcome(REPRODUCED, f"{evidence}; one-sided exact McNemar p={p_claimed:.3g}, "
                       f"{effect}", p_claimed, **numbers)
    if p_opposite <= spec.alpha:
        return Outcome(NOT_REPRODUCED, f"{evidence}; the opposite holds: one-sided exact "
                       f"McNemar p={p_opposite:.3g}, {effect}", p_opposite, **numbers)
    return Outcome(INCONCLUSIVE, f"{evidence}; one-sided exact McNemar p={p_claimed:.3g}, "
                   f"{effect} (no significant difference at alpha={spec.alpha:g})",
                   p_claimed, **numbers)


def overall(verdicts: list[str]) -> str:
    """A claim's verdict from its checks' verdicts."""
    if not verdicts:
        return INCONCLUSIVE
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return INCONCLUSIVE
