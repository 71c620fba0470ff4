"""Statistics over training seeds, on plain values (no torch, no suite configuration).

- ``ranges``: the range of values a quantity can take;
- ``intervals``: CIs of a mean over seeds that stay inside that range, and rates;
- ``tests``: Mann-Whitney U, Cliff's delta with its score interval and the score test it
  inverts, paired McNemar with Newcombe's interval, Holm's correction;
- ``equivalence``: one-sided p-values and TOST read off any interval;
- ``trend``: Theil-Sen slope over checkpoints, and the convergence test (a t-test over the
  seeds' slopes: is an arm still improving?);
- ``power``: textbook seeds per arm for a difference or for equivalence;
- ``sequential``: alpha spending across repeated looks (Lan-DeMets, O'Brien-Fleming).
"""

from bench.stats.intervals import (
    BCA_FROM_N,
    METHOD_NAMES,
    Estimate,
    interval_bounds,
    mean_ci,
    rate_ci,
)
from bench.stats.ranges import CORRELATION, NONNEGATIVE, UNBOUNDED, UNIT, Range, counts

__all__ = ["BCA_FROM_N", "CORRELATION", "METHOD_NAMES", "NONNEGATIVE", "UNBOUNDED", "UNIT",
           "Estimate", "Range", "counts", "interval_bounds", "mean_ci",
           "rate_ci"]
