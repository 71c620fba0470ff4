"""Tests over training seeds: two groups compared by a Mann-Whitney U test and Cliff's delta
(with a score interval), paired successes by an exact McNemar test and the difference of
their fractions (with Newcombe's interval), and the Holm correction of a family of tests.

Both are rank statistics, so they need no distributional assumption and accept infinite values:
a claim can rank a diverged run as the worst outcome by giving it +inf (lower is better) or
-inf (higher is better). NaN values (no measurement) are dropped.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

PERMUTATIONS = 20_000
"""Resamples when the exact permutation distribution is larger than this (it is enumerated
exactly below that, e.g. for up to 8 + 8 seeds)."""


@dataclass(frozen=True)
class SeedComparison:
    """Group A against group B."""

    n_a: int
    n_b: int
    p_greater: float
    """One-sided p-value of 'A tends to be greater than B' (Mann-Whitney U, permutation null)."""
    p_less: float
    """One-sided p-value of 'A tends to be less than B'."""
    cliffs_delta: float
    """P(A > B) - P(A < B) over all pairs, in [-1, 1]; equals the rank-biserial correlation of
    U. |delta| >= 0.147 / 0.33 / 0.474 is small / medium / large (Romano et al. 2006)."""


def _finite_or_inf(values: np.ndarray | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def cliffs_delta(a: np.ndarray | list[float], b: np.ndarray | list[float]) -> float:
    """P(A > B) - P(A < B) over all pairs of the non-NaN values; NaN when a group is empty."""
    x, y = _finite_or_inf(a), _finite_or_inf(b)
    if len(x) == 0 or len(y) == 0:
        return math.nan
    return _pairwise_delta(x, y)


def _pairwise_delta(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) - P(X < Y) over all pairs (equal infinities, two diverged runs, tie)."""
    a, b = x[:, None], y[None, :]
    return float((np.sum(a > b) - np.sum(a < b)) / (len(x) * len(y)))


def _concordance(x: np.ndarray, y: np.ndarray) -> float:
    """theta = P(X > Y) + P(X = Y) / 2 over all pairs: Cliff's delta is 2 theta - 1."""
    return (_pairwise_delta(x, y) + 1) / 2


def _score_variance(theta: np.ndarray | float, m: int, n: int) -> np.ndarray | float:
    """Var(theta-hat) at theta (Hanley and McNeil's exponential approximation) with both
    group sizes replaced by (m + n) / 2 - 1: Newcombe's (2006, Part 2) method 5."""
    star = (m + n) / 2 - 1
    return theta * (1 - theta) / (m * n) * (
        1 + (star - 1) * (1 - theta) / (2 - theta) + (star - 1) * theta / (1 + theta))


def _score_quantile(confidence: float, m: int, n: int) -> float:
    # t on m + n - 2 degrees of freedom, not z: z under-covers below ~12 seeds per arm
    # (tests/test_effect_intervals.py)
    return float(stats.t.ppf((1 + confidence) / 2, m + n - 2))


def cliffs_delta_ci(a: np.ndarray | list[float], b: np.ndarray | list[float],
                    confidence: float = 0.95) -> tuple[float, float]:
    """Score interval of Cliff's delta: the thetas (delta = 2 theta - 1) whose score
    statistic (theta-hat - theta) / sqrt(Var(theta)) stays within the t quantile, with
    Newcombe's method-5 variance. A score interval, unlike a Wald or percentile bootstrap
    interval, keeps its width when the seeds separate perfectly (3 vs 3 seeds: delta-hat
    = 1, the interval still reaches down) and stays inside [-1, 1]; its coverage at 4 to 30
    seeds per arm, with and without ties, is simulated in tests/test_effect_intervals.py.
    (NaN, NaN) when a group has fewer than two values."""
    x, y = _finite_or_inf(a), _finite_or_inf(b)
    if len(x) < 2 or len(y) < 2:
        return math.nan, math.nan
    m, n, theta = len(x), len(y), _concordance(x, y)
    q = _score_quantile(confidence, m, n)

    def outside(t: float) -> bool:
        return (theta - t) ** 2 > q * q * _score_variance(t, m, n)

    bounds = []
    for far in (0.0, 1.0):  # bisect between theta-hat (inside) and each end of [0, 1]
        inside, out = theta, far
        if not outside(far):
            bounds.append(far)
            continue
        for _ in range(60):
            middle = (inside + out) / 2
            inside, out = (inside, middle) if outside(middle) else (middle, out)
        bounds.append(inside)
    return 2 * bounds[0] - 1, 2 * bounds[1] - 1


def cliffs_delta_p_beyond(a: np.ndarray | list[float], b: np.ndarray | list[float],
                          bound: float, side: str) -> float:
    """One-sided p-value of "Cliff's delta lies ``side`` ('above' or 'below') ``bound``"
    (|bound| < 1): the score test that ``cliffs_delta_ci`` inverts, so it is at most alpha
    exactly when the (1 - 2 alpha) interval's end on that side passes ``bound``. NaN when a
    group has fewer than two values."""
    x, y = _finite_or_inf(a), _finite_or_inf(b)
    if len(x) < 2 or len(y) < 2:
        return math.nan
    m, n, theta = len(x), len(y), _concordance(x, y)
    null = (1 + bound) / 2
    score = (theta - null) / math.sqrt(_score_variance(null, m, n))
    t = stats.t(m + n - 2)
    return float(t.sf(score) if side == "above" else t.cdf(score))


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values of one family (any dependence between its tests);
    NaN entries (no test) are left out of the family and stay NaN. Written out rather than
    statsmodels' ``multipletests``, which runs ``gc.collect()`` on every call (0.35 s here);
    tests/test_stats_package.py checks it against statsmodels."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(p), math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    steps = (len(order) - np.arange(len(order))) * p[order]
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted.tolist()


def compare_seeds(a: np.ndarray | list[float], b: np.ndarray | list[float]) -> SeedComparison:
    """Both one-sided Mann-Whitney U p-values and Cliff's delta of A against B.

    The p-values come from the permutation distribution of U, exact for small groups, so they
    are valid with ties (e.g. every run capturing all 8 modes) and with 3 seeds per group,
    where the asymptotic normal approximation is not. A group with fewer than two values gives
    NaN p-values (no test is possible), and an empty one a NaN delta too.
    """
    x, y = _finite_or_inf(a), _finite_or_inf(b)
    if len(x) < 2 or len(y) < 2:
        return SeedComparison(len(x), len(y), math.nan, math.nan, cliffs_delta(x, y))
    # without ties scipy's exact null distribution of U is the permutation distribution, and
    # far faster than resampling it; with ties (e.g. equal mode counts) only permutations are
    # valid
    tied = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
    method = stats.PermutationMethod(n_resamples=PERMUTATIONS, rng=0) if tied else "exact"
    p = {
        alternative: float(stats.mannwhitneyu(x, y, alternative=alternative, method=method)
                           .pvalue)
        for alternative in ("greater", "less")
    }
    return SeedComparison(len(x), len(y), p["greater"], p["less"], cliffs_delta(x, y))


@dataclass(frozen=True)
class PairedSuccesses:
    """Success or failure of A and of B on the same units (e.g. architectures, each tried
    once by both): the 2 x 2 table."""

    both: int
    only_a: int
    only_b: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.only_a + self.only_b + self.neither

    @property
    def difference(self) -> float:
        """A's success fraction minus B's (NaN without units)."""
        return (self.only_a - self.only_b) / self.n if self.n else math.nan


def paired_successes(a: np.ndarray | list[bool],
                     b: np.ndarray | list[bool]) -> PairedSuccesses:
    """The 2 x 2 table of A's and B's successes on the same units (a[i], b[i]: unit i)."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if x.shape != y.shape:
        raise ValueError(f"paired outcomes need equal lengths, got {len(x)} and {len(y)}")
    return PairedSuccesses(int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum()),
                           int((~x & ~y).sum()))


def mcnemar_greater(only_a: int | np.ndarray, only_b: int | np.ndarray) -> float | np.ndarray:
    """One-sided exact McNemar p-value of 'A succeeds where B fails more often than the
    reverse': P(X >= only_a) for X ~ Binomial(only_a + only_b, 1/2), the discordant pairs'
    null (1 without discordant pairs). statsmodels' ``mcnemar(exact=True)`` is the two-sided
    version (twice the smaller tail); vectorised over arrays of counts."""
    k = np.asarray(only_a)
    return stats.binom.sf(k - 1, k + np.asarray(only_b), 0.5)


def paired_difference_ci(table: PairedSuccesses,
                         confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (1998, method 10) of A's minus B's success fraction
    on paired units: each fraction's Wilson interval (statsmodels), combined with the
    correlation of the pairs. It stays in [-1, 1], and covers near 0 and 1 and with few
    discordant pairs, where the Wald interval fails (Fagerland et al. 2014)."""
    t, n = table, table.n
    if n == 0:
        return math.nan, math.nan
    successes_a, successes_b = t.both + t.only_a, t.both + t.only_b
    p1, p2 = successes_a / n, successes_b / n
    l1, u1 = proportion_confint(successes_a, n, alpha=1 - confidence, method="wilson")
    l2, u2 = proportion_confint(successes_b, n, alpha=1 - confidence, method="wilson")
    margins = successes_a * (n - successes_a) * successes_b * (n - successes_b)
    phi = (t.both * t.neither - t.only_a * t.only_b) / math.sqrt(margins) if margins else 0.0
    low = (p1 - p2) - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                                    + (u2 - p2) ** 2))
    high = (p1 - p2) + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                                     + (p2 - l2) ** 2))
    return max(-1.0, float(low)), min(1.0, float(high))
