"""Verdict rules: how a check of a claim turns seed-level numbers into a verdict.

Two rules, both with thresholds from the suite's ``claims:`` section (ClaimsSpec):

- ``directional``: "A is better than B". Reproduced when the one-sided Mann-Whitney U test
  in the claimed direction has p <= alpha and |Cliff's delta| >= min_effect; not reproduced
  when the same holds in the opposite direction; inconclusive otherwise (the groups overlap)
  or when a group has fewer than min_seeds values.
- ``threshold``: "the mean is above (or below) a bound". Reproduced when the whole 95% CI
  of the mean over seeds (bench.stats.mean_ci: Student-t for few seeds, BCa bootstrap for
  many) lies on the claimed side; not reproduced when it lies wholly on the other side;
  inconclusive when it straddles the bound or n < min_seeds.

A claim made of several checks is reproduced when all are, not reproduced when any is, and
inconclusive otherwise (``overall``).
"""

import math
from dataclasses import dataclass

import numpy as np

from bench.analysis.seed_tests import compare_seeds
from bench.specs import ClaimsSpec
from bench.stats import Estimate, mean_ci

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


@dataclass(frozen=True)
class Outcome:
    """A verdict, the evidence behind it in words, and the test's numbers (NaN if none)."""

    verdict: str
    evidence: str
    p_value: float = math.nan
    effect_size: float = math.nan


_INTERVAL_NAMES = {"t": "Student-t", "bca": "BCa bootstrap"}  # by Estimate.method


def _mean_and_ci(est: Estimate) -> str:
    return f"{est.mean:.3g}" if est.n == 1 else est.format()  # n is written by the caller


def describe(values: np.ndarray | list[float], worst: str = "diverged") -> str:
    """'mean [95% CI] (n=N)' of the finite values, noting infinite ones as ``worst``."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    text = _mean_and_ci(mean_ci(x[np.isfinite(x)]))
    n_inf = int(np.isinf(x).sum())
    text += f" (n={len(x)}" + (f", {n_inf} {worst}" if n_inf else "") + ")"
    return text


def directional(
    a: np.ndarray | list[float], b: np.ndarray | list[float], better: str, spec: ClaimsSpec,
    names: tuple[str, str] = ("A", "B"),
) -> Outcome:
    """Is group A better than group B? ``better`` is "higher" or "lower"."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    result = compare_seeds(a, b)
    evidence = f"{names[0]} {describe(a)} vs {names[1]} {describe(b)}"
    if min(result.n_a, result.n_b) < spec.min_seeds:
        return Outcome(INCONCLUSIVE, f"{evidence}; too few seeds (fewer than {spec.min_seeds})")
    claimed, opposite = ("p_greater", "p_less") if better == "higher" else ("p_less",
                                                                            "p_greater")
    # delta > 0 means A tends higher: orient it so that > 0 supports the claim
    delta = result.cliffs_delta if better == "higher" else -result.cliffs_delta
    p_claimed, p_opposite = getattr(result, claimed), getattr(result, opposite)
    stats = f"; one-sided Mann-Whitney p={p_claimed:.3g}, Cliff's delta={delta:+.2f}"
    if p_claimed <= spec.alpha and delta >= spec.min_effect:
        return Outcome(REPRODUCED, evidence + stats, p_claimed, delta)
    if p_opposite <= spec.alpha and -delta >= spec.min_effect:
        return Outcome(NOT_REPRODUCED, f"{evidence}; the opposite holds: one-sided "
                       f"Mann-Whitney p={p_opposite:.3g}, Cliff's delta={delta:+.2f}",
                       p_opposite, delta)
    return Outcome(INCONCLUSIVE, evidence + stats + f" (no significant difference at "
                   f"alpha={spec.alpha:g})", p_claimed, delta)


def threshold(
    values: np.ndarray | list[float], bound: float, side: str, spec: ClaimsSpec,
    name: str = "mean",
) -> Outcome:
    """Does the mean of ``values`` lie above (``side="above"``) or below ``bound``?"""
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    est = mean_ci(x)
    evidence = f"{name} {_mean_and_ci(est)} (n={est.n}) against {bound:g}"
    if est.n < spec.min_seeds:
        return Outcome(INCONCLUSIVE, f"{evidence}; too few seeds (fewer than {spec.min_seeds})")
    ci = f"the 95% CI ({_INTERVAL_NAMES[est.method]})"
    above, below = est.low >= bound, est.high < bound
    if (above and side == "above") or (below and side == "below"):
        return Outcome(REPRODUCED, f"{evidence}: {ci} lies {side}")
    if above or below:
        return Outcome(NOT_REPRODUCED, f"{evidence}: {ci} lies {'above' if above else 'below'}")
    return Outcome(INCONCLUSIVE, f"{evidence}: {ci} contains it")


def overall(verdicts: list[str]) -> str:
    """A claim's verdict from its checks' verdicts."""
    if not verdicts:
        return INCONCLUSIVE
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return INCONCLUSIVE
