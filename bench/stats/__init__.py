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

from bench.stats.ranges import CORRELATION, NONNEGATIVE, UNBOUNDED, UNIT, Range, counts

_FROM_INTERVALS = ("BCA_FROM_N", "METHOD_NAMES", "Estimate", "interval_bounds", "mean_ci",
                   "rate_ci")

__all__ = ["CORRELATION", "NONNEGATIVE", "UNBOUNDED", "UNIT", "Range", "counts",
           *_FROM_INTERVALS]


def __getattr__(name: str) -> object:
    """The intervals' names, imported on first use (PEP 562): they load scipy and statsmodels,
    which a suite's check, needing only the ranges, should not pay for."""
    if name in _FROM_INTERVALS:
        from bench.stats import intervals

        return getattr(intervals, name)
    raise AttributeError(f"module 'bench.stats' has no attribute {name!r}")
