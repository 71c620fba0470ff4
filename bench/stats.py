"""Statistics over training seeds."""

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 10_000


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its percentile-bootstrap 95% CI (NaN bounds when n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    def format(self, digits: int = 3) -> str:
        if self.n == 0:
            return "n/a"
        if math.isnan(self.low):
            return f"{self.mean:.{digits}g} (n={self.n})"
        return f"{self.mean:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


def bootstrap_mean_ci(
    values: np.ndarray | list[float], confidence: float = 0.95, seed: int = 0
) -> Estimate:
    """Mean of the finite ``values`` and a percentile-bootstrap CI of the mean.

    Deterministic for a given ``seed``. With few seeds the bootstrap CI is narrow-biased (it
    cannot be wider than the sample range): the table always shows n beside it.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    if n == 1:
        return Estimate(float(x[0]), math.nan, math.nan, 1)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Estimate(float(x.mean()), float(low), float(high), n)
