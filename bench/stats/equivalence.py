"""One-sided tests and equivalence (TOST) read off a confidence interval.

Every effect the claims report shows has an interval method that takes a confidence level
(a mean's range-respecting interval, Cliff's delta's score interval, Newcombe's paired
difference). The test such an interval inverts is its own: "the effect exceeds ``bound``"
is significant at alpha exactly when the lower end of the (1 - 2 alpha) two-sided interval
lies above ``bound``. Reading every p-value off the interval the report prints keeps the
verdict and the interval in agreement, whatever the interval's method.

Equivalence within a margin is Schuirmann's two one-sided tests (1987): the effect is shown
to lie inside (low, high) at alpha when both one-sided tests reject at alpha, i.e. when the
(1 - 2 alpha) interval lies inside the margins. Its p-value is the larger of the two.
"""

import math
from collections.abc import Callable

IntervalAt = Callable[[float], tuple[float, float]]
"""confidence in (0, 1) -> the two-sided interval (low, high) at that confidence."""

ABOVE, BELOW = "above", "below"
_SMALLEST = 1e-9
"""The smallest p-value reported: bisection stops there (quantiles overflow beyond)."""


def _crossing(interval_at: IntervalAt, bound: float, side: str) -> float | None:
    """The smallest alpha at which the (1 - 2 alpha) interval's end on ``side`` passes
    ``bound`` (bisection: the interval narrows as alpha grows), or None when even the point
    estimate (alpha -> 1/2) does not."""
    def passes(alpha: float) -> bool:
        low, high = interval_at(1 - 2 * alpha)
        return low > bound if side == ABOVE else high < bound

    if passes(_SMALLEST):
        return _SMALLEST
    near, far = _SMALLEST, 0.4999  # alpha that does not pass, alpha that does (a 0.02%
    # interval: the point estimate, short of the quantiles that divide 0 by 0)
    if not passes(far):
        return None
    for _ in range(40):
        middle = (near + far) / 2
        near, far = (near, middle) if passes(middle) else (middle, far)
    return far


def p_beyond(interval_at: IntervalAt, bound: float, side: str) -> float:
    """One-sided p-value of "the effect lies ``side`` (above or below) ``bound``": the
    smallest alpha at which the (1 - 2 alpha) interval's near end passes ``bound``; one minus
    the opposite test's p-value when the estimate lies on the other side (0.5 on the bound);
    NaN when the interval is undefined. Works for any interval method."""
    if side not in (ABOVE, BELOW):
        raise ValueError(f"side must be {ABOVE!r} or {BELOW!r}, got {side!r}")
    if any(math.isnan(v) for v in interval_at(0.5)):
        return math.nan
    crossing = _crossing(interval_at, bound, side)
    if crossing is not None:
        return crossing
    opposite = _crossing(interval_at, bound, BELOW if side == ABOVE else ABOVE)
    return 0.5 if opposite is None else 1 - opposite


def tost_p(interval_at: IntervalAt, low: float, high: float) -> float:
    """Equivalence p-value of "the effect lies inside (``low``, ``high``)": the larger of the
    two one-sided p-values (TOST); at most alpha exactly when the (1 - 2 alpha) interval lies
    inside the margins."""
    return max(p_beyond(interval_at, low, ABOVE), p_beyond(interval_at, high, BELOW))
