"""A claim's checks judged together: convergence, Holm's correction and power, in one place.

The claim builders produce checks, each decided on its own at the suite's alpha. Here, for
all checks of one claim:

1. **Convergence.** A check comparing the arms' final values names its arms. Each arm's
   trend in the compared metric over the last ``trend_fraction`` of its checkpoints (mean
   over finished seeds, Theil-Sen slope with its 95% CI, bench.stats.trend) tells whether it
   is still improving: the slope's CI lies on the improving side and the fitted change over
   that window is at least ``max_final_change``. Then the final values measure speed, not
   the claim, and the check is inconclusive. Checks about speed (matched steps or time)
   name no arms and are exempt.
2. **One family.** Holm-Bonferroni over the p-values of the claim's tested checks: a
   decided check whose adjusted p-value exceeds alpha becomes inconclusive.
3. **Power.** Every inconclusive check that a rule can answer gets the seeds per arm that
   would decide it with 80% power at the family's alpha (alpha / number of tests, Holm's
   strictest step), by resampling its seeds (bench.stats.power).
"""

import math
from dataclasses import dataclass, replace

from bench.analysis.rules import INCONCLUSIVE, Outcome
from bench.analysis.suite_data import Setting, SuiteData
from bench.specs import ClaimsSpec
from bench.stats.tests import holm
from bench.stats.trend import Trend, final_trend


@dataclass(frozen=True)
class Arm:
    """One side of a final-value comparison: whose series to test for convergence."""

    name: str
    """How the evidence names it, e.g. 'wgan-clip'."""
    setting: Setting
    gan: str
    optimizer: str
    metric: str
    """The checkpoint metric compared (a row name: w1, fd_digits, modes_captured, ...)."""
    better: str
    """'lower' or 'higher'."""


@dataclass(frozen=True)
class Judged:
    outcome: Outcome
    p_adjusted: float
    seeds_needed: float
    """Seeds per arm that would decide an inconclusive check; NaN when decided or none
    would (the evidence says why)."""


def arm_trend(data: SuiteData, arm: Arm, spec: ClaimsSpec) -> Trend | None:
    """The Theil-Sen trend of the arm's metric, mean over its finished seeds, over the last
    ``trend_fraction`` of its checkpoints; None with fewer than 3 checkpoints."""
    finished = data.cell(arm.setting, arm.gan, arm.optimizer)
    finished = set(finished.loc[finished["status"] == "finished", "run_id"])
    rows = data.select(data.metrics, arm.setting, arm.gan, arm.optimizer)
    rows = rows[(rows["metric"] == arm.metric) & rows["run_id"].isin(finished)]
    if rows.empty:
        return None
    mean = rows.groupby("step")["value"].mean()
    return final_trend(mean.index.to_numpy(dtype=float), mean.to_numpy(dtype=float),
                       spec.trend_fraction)


def _improving(trend: Trend, better: str, spec: ClaimsSpec) -> bool:
    direction = trend.high < 0 if better == "lower" else trend.low > 0
    return direction and abs(trend.change) >= spec.max_final_change


def _convergence(data: SuiteData, arms: tuple[Arm, ...], spec: ClaimsSpec) -> tuple[str, str]:
    """(why the check is inconclusive, or ""; notes on arms whose trend was not tested)."""
    still, untested = [], []
    for arm in arms:
        trend = arm_trend(data, arm, spec)
        if trend is None:
            untested.append(arm.name)
        elif _improving(trend, arm.better, spec):
            still.append(f"{arm.name} still improving: {arm.metric} {trend.change:+.0%} over "
                         f"the last {trend.points} checkpoints (Theil-Sen slope "
                         f"{trend.slope:.3g} per step, 95% CI [{trend.low:.3g}, "
                         f"{trend.high:.3g}])")
    note = (f"; convergence not tested for {', '.join(untested)}: fewer than 3 checkpoints"
            if untested else "")
    return "; ".join(still), note


def judge_family(items: list[tuple[Outcome, tuple[Arm, ...]]], data: SuiteData,
                 spec: ClaimsSpec) -> list[Judged]:
    """The claim's checks (each outcome with the arms whose final values it compares)
    after the convergence test, Holm's correction and the power search."""
    adjusted = holm([o.p_value for o, _ in items])
    tests = sum(not math.isnan(p) for p in adjusted)
    judged = []
    for (outcome, arms), p_adj in zip(items, adjusted, strict=True):
        evidence, verdict = outcome.evidence, outcome.verdict
        moving, note = _convergence(data, arms, spec) if arms else ("", "")
        evidence += note
        if moving:
            verdict = INCONCLUSIVE
            evidence += f"; final values not compared: {moving}"
        elif verdict != INCONCLUSIVE and p_adj > spec.alpha:
            verdict = INCONCLUSIVE
            evidence += (f"; Holm-adjusted p={p_adj:.3g} > alpha={spec.alpha:g} over the "
                         f"claim's {tests} tests")
        needed = math.nan
        if verdict == INCONCLUSIVE and outcome.seeds_for is not None:
            if moving:
                evidence += "; more seeds do not decide it until the arms converge"
            else:
                n, why = outcome.seeds_for(spec.alpha / max(tests, 1))
                needed = float(n) if n is not None else math.nan
                evidence += (f"; seeds needed per arm: {n}" if n is not None
                             else f"; seeds needed: {why}")
        judged.append(Judged(replace(outcome, verdict=verdict, evidence=evidence),
                             float(p_adj), needed))
    return judged

