"""The gate's seed test: an exact one-sided permutation test of a difference of means."""

import functools
import itertools
import math

import numpy as np
from numpy.typing import ArrayLike

_EXACT_LIMIT = 200_000  # splits of the seeds enumerated exactly (8 + 8 seeds: 12,870)
_MONTE_CARLO = 100_000  # random splits beyond that


@functools.cache
def _subsets(n: int, k: int) -> np.ndarray:
    """Every k-subset of range(n), one per row."""
    return np.array(list(itertools.combinations(range(n), k)), dtype=np.intp)


def permutation_p(worse: ArrayLike, reference: ArrayLike) -> float:
    """One-sided p-value that ``worse`` has a larger mean than ``reference``: the share of
    ways to split the pooled values into groups of these sizes whose first group's mean is at
    least the observed one. Exact when the splits can be enumerated, else a seeded (so
    reproducible) Monte Carlo that counts the observed split too."""
    x, y = np.asarray(worse, dtype=float), np.asarray(reference, dtype=float)
    pooled, k = np.concatenate([x, y]), len(x)
    # with the pooled total fixed, the difference of means grows with the first group's sum
    if math.comb(len(pooled), k) <= _EXACT_LIMIT:
        sums = pooled[_subsets(len(pooled), k)].sum(axis=1)
    else:
        rng = np.random.default_rng(0)
        draws = rng.permuted(np.tile(np.arange(len(pooled)), (_MONTE_CARLO, 1)), axis=1)
        sums = np.append(pooled[draws[:, :k]].sum(axis=1), x.sum())
    tolerance = 1e-9 * np.abs(pooled).sum()  # equal sums that rounding made unequal
    return float(np.mean(sums >= x.sum() - tolerance))


def smallest_p(n_base: int, n_cand: int) -> float:
    """The smallest p-value ``permutation_p`` can give with these group sizes."""
    return 1.0 / math.comb(n_base + n_cand, n_base)
