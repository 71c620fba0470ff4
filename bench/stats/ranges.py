"""What values a quantity can take: the range its intervals must stay inside."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """The closed interval [low, high] of a quantity's possible values (infinite ends allowed)."""

    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"a range needs low < high, got [{self.low}, {self.high}]")

    @property
    def bounded(self) -> bool:
        """Both ends finite: a mean over seeds is a share of the span (bench.stats.intervals)."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    def clip(self, value: float) -> float:
        return min(max(value, self.low), self.high)

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}]"


UNBOUNDED = Range()
NONNEGATIVE = Range(0.0, math.inf)
"""Distances, divergences, times, rates per second."""
UNIT = Range(0.0, 1.0)
"""Fractions and shares (precision, recall, coverage, divergence rate, piled fraction)."""
CORRELATION = Range(-1.0, 1.0)
"""Correlation coefficients (Spearman rho, Kendall tau), cosines, Cliff's delta."""


def counts(maximum: int) -> Range:
    """[0, maximum]: e.g. the modes a run can capture out of a dataset's ``maximum``."""
    return Range(0.0, float(maximum))
