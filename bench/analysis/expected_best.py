"""Expected best quality after k trials of a hyperparameter search (Dodge et al. 2019, "Show
Your Work: Improved Reporting of Experimental Results": expected validation performance).

Of a cell's N trials, k are drawn i.i.d. with replacement and the best is kept. With the
qualities sorted worst to best, v_(1) .. v_(N), the best of k has rank i with probability
(i/N)^k - ((i-1)/N)^k, so its expectation is exact: sum_i v_(i) * ((i/N)^k - ((i-1)/N)^k).

Diverged trials (non-finite qualities) are the worst outcome: +inf when lower is better,
-inf when higher is. With m of the N diverged, all k draws diverge with probability
(m/N)^k > 0, so the expected best is infinite at *every* k, not only small ones (and so is
the CI's worse bound, unless fewer than the tail share of resamples hold a diverged trial).
The table therefore also gives ``p_all_diverged`` = (m/N)^k and ``expected_best_converged``,
the expected best given that at least one of the k draws converged: the usable curve when a
few trials diverged.
"""

import numpy as np
import pandas as pd

from bench.core.outputs import DIRECTIONS, HIGHER, LOWER

RESAMPLES = 9_999
COLUMNS = ["k", "n_trials", "expected_best", "ci_low", "ci_high", "p_all_diverged",
           "expected_best_converged"]


def _best_of_k(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For trials' ``scores`` (..., N), higher better, -inf for a diverged trial: per k = 1..N
    along the last axis, the expected best of k draws, the probability that all k diverged,
    and the expected best given that not all did (NaN when every trial diverged)."""
    n = scores.shape[-1]
    ranked = np.sort(scores, axis=-1)  # diverged first
    k = np.arange(1, n + 1)
    weights = np.diff((np.arange(n + 1) / n) ** k[:, None], axis=1)  # [k, i]: P(best is i)
    converged_sum = np.where(np.isfinite(ranked), ranked, 0.0) @ weights.T
    diverged = np.isneginf(ranked).sum(axis=-1, keepdims=True)
    p_all_diverged = (diverged / n) ** k
    # the finite ranks' weights add up to 1 - p_all_diverged: dividing conditions on them
    converged = np.divide(converged_sum, 1.0 - p_all_diverged,
                          out=np.full_like(converged_sum, np.nan), where=p_all_diverged < 1)
    expected = np.where(diverged > 0, -np.inf, converged_sum)
    return expected, p_all_diverged, converged


def expected_best(
    qualities: np.ndarray | list[float], better: str = LOWER, confidence: float = 0.95,
    resamples: int = RESAMPLES, seed: int = 0,
) -> pd.DataFrame:
    """The expected best quality among k = 1..N trials drawn with replacement from the N
    ``qualities``, with a percentile-bootstrap CI (the trials resampled ``resamples`` times,
    deterministic for a ``seed``). Columns: ``COLUMNS``; no rows when there are no trials."""
    if better not in DIRECTIONS:
        raise ValueError(f"better must be {LOWER!r} or {HIGHER!r}, got {better!r}")
    q = np.asarray(qualities, dtype=float)
    n = len(q)
    if n == 0:
        return pd.DataFrame(columns=COLUMNS)
    sign = -1.0 if better == LOWER else 1.0  # scores: higher is better
    scores = np.where(np.isfinite(q), sign * q, -np.inf)
    expected, p_all_diverged, converged = _best_of_k(scores)
    resampled = scores[np.random.default_rng(seed).integers(0, n, size=(resamples, n))]
    curves = sign * _best_of_k(resampled)[0]
    tail = (1 - confidence) / 2
    # an order statistic, not an interpolation: curves may hold infinities
    ci_low, ci_high = np.quantile(curves, [tail, 1 - tail], axis=0, method="inverted_cdf")
    return pd.DataFrame({
        "k": np.arange(1, n + 1), "n_trials": n, "expected_best": sign * expected,
        "ci_low": ci_low, "ci_high": ci_high, "p_all_diverged": p_all_diverged,
        "expected_best_converged": sign * converged,
    })
