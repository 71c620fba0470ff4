"""Looking again after adding seeds, without inflating false verdicts: alpha spending.

A check tested after every round of new seeds gets several chances to cross p <= alpha by
luck; re-testing at a fixed alpha after each look makes a false verdict far likelier than
alpha (tests/test_sequential.py measures it). A group-sequential design spends alpha across
the looks instead (Lan & DeMets 1983): after look k, with information fraction t_k (seeds
per arm so far over the most the design allows), the total chance of a false rejection up to
look k is the spending function alpha(t_k). The O'Brien-Fleming-shaped function

    alpha(t) = 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t))

spends almost nothing at early looks and nearly all of alpha at the last, so a check that
runs to the maximum is judged at close to the fixed-sample alpha.

Each look's boundary c_k solves P(no crossing before k, Z_k >= c_k) = alpha(t_k) -
alpha(t_{k-1}) under the null, where the cumulative test statistics Z_1..Z_k are jointly
normal with corr(Z_i, Z_j) = sqrt(t_i / t_j) (independent increments; asymptotically true of
rank statistics such as Mann-Whitney's U). The boundary of a look depends only on the looks so
far, so the number of looks need not be fixed in advance. A one-sided p-value is compared
with the look's nominal level 1 - Phi(c_k).
"""

import functools
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats


def obrien_fleming_spent(fraction: float, alpha: float) -> float:
    """Alpha spent by information fraction ``fraction`` in (0, 1] (Lan-DeMets O'Brien-Fleming
    shape): 0 at 0, ``alpha`` at 1."""
    if not 0 < fraction <= 1:
        raise ValueError(f"an information fraction lies in (0, 1], got {fraction}")
    return float(2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / math.sqrt(fraction)))


def _no_crossing(bounds: tuple[float, ...], fractions: tuple[float, ...]) -> float:
    """P(Z_j < bounds[j] for every look j) under the null's joint normal."""
    t = np.asarray(fractions)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    if len(t) == 1:
        return float(stats.norm.cdf(bounds[0]))
    normal = stats.multivariate_normal(np.zeros(len(t)), cov, abseps=1e-6, releps=1e-5,
                                       maxpts=20_000 * len(t))
    return float(normal.cdf(np.asarray(bounds)))


@functools.lru_cache(maxsize=64)
def _boundaries(fractions: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    bounds: list[float] = []
    for k, t in enumerate(fractions):
        spend = obrien_fleming_spent(t, alpha) - (
            obrien_fleming_spent(fractions[k - 1], alpha) if k else 0.0)
        if spend <= 0:
            bounds.append(math.inf)
            continue
        before = _no_crossing(tuple(bounds), fractions[:k]) if k else 1.0

        def crossing_now(c: float, k: int = k, before: float = before,
                         spend: float = spend) -> float:
            return before - _no_crossing((*bounds, c), fractions[:k + 1]) - spend

        bounds.append(optimize.brentq(crossing_now, -1.0, 40.0, xtol=1e-6))
    return tuple(bounds)


def nominal_levels(fractions: Sequence[float], alpha: float) -> list[float]:
    """The one-sided nominal p-value level of each look at the information ``fractions``
    (increasing, in (0, 1]; the last look of a design that stops at its maximum is 1): a look
    rejects when its p-value is at most its level, and over all looks the chance of a false
    rejection is at most ``alpha``."""
    t = tuple(float(f) for f in fractions)
    if any(b <= a for a, b in zip(t, t[1:], strict=False)):
        raise ValueError(f"information fractions must increase, got {list(fractions)}")
    return [float(stats.norm.sf(c)) for c in _boundaries(t, alpha)]


def first_rejection(p_values: Sequence[float], fractions: Sequence[float],
                    alpha: float) -> int | None:
    """The index of the first look whose one-sided p-value is within its nominal level, or
    None: the group-sequential verdict of one test seen at ``fractions``."""
    levels = nominal_levels(fractions, alpha)
    return next((k for k, (p, level) in enumerate(zip(p_values, levels, strict=True))
                 if p <= level), None)
