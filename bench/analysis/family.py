"""A claim's checks judged together: the claim's logic, convergence and power, in one place.

The claim builders produce checks, each with its one-sided p-values (bench.analysis.rules).
Here, for all checks of one claim:

1. **Level.** Each check is decided at its own level: the suite's alpha, or under
   ``run --until-decided`` the nominal level of its own look in the alpha-spending design
   (``LevelOf``: a check whose seeds did not grow since the last look is not looked at
   again).
2. **Convergence.** A check comparing the arms' final values names its arms. An arm whose
   seeds are still improving, in the compared metric or in its quality (W1, the Frechet
   distance), over the last checkpoints (bench.stats.trend.improvement) makes the check
   inconclusive: the final values would measure speed, not the claim. Checks about speed
   (matched steps or time) name no arms and are exempt.
3. **The claim's logic.** A claim that needs all its checks (ALL) is an intersection-union
   test (Berger 1982; Berger and Hsu 1996): it is reproduced when every check is, each at
   its level, with no correction, and the claim's chance of a wrong "reproduced" is still
   at most alpha (it needs the one false check to pass). Any one check refutes it, so the
   refutations are Holm-corrected across the checks. A claim of "any of" (ANY) is the
   mirror: Holm on the side of the effect, none against it.
4. **Power.** Every inconclusive check gets the seeds per arm that would decide it with 80%
   power, planned at the level it will face at its last look on each side (Holm's
   strictest step where that side is corrected).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from bench.analysis.rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Outcome
from bench.analysis.suite_data import Setting, SuiteData
from bench.core.outputs import LOWER, QUALITY_BETTER
from bench.core.specs import Cell, ClaimsSpec
from bench.stats.tests import holm
from bench.stats.trend import Improvement, improvement, window_size

ALL, ANY = "all", "any"
LOGIC_CAPTIONS = {
    ALL: "reproduced when every check is, each at alpha (an intersection-union test needs "
         "no correction); not reproduced when any check is reversed or equivalent after "
         "Holm's correction across the checks",
    ANY: "reproduced when any check is, after Holm's correction across the checks; not "
         "reproduced when every check is reversed or equivalent, each at alpha",
}
"""Each logic's rule in words: report.md states it once per claim."""

LevelOf = Callable[[tuple[Cell, ...]], tuple[float, float]]
"""A check's cells -> (the level it is judged at now, the level it will face at its last
look)."""


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
    """LOWER or HIGHER (bench.core.outputs)."""
    quality: str | None = None
    """The dataset's quality metric (``QUALITY_BETTER``), when it is not ``metric``: the arm
    has converged only when its quality has stopped improving too."""


@dataclass(frozen=True)
class Judged:
    outcome: Outcome
    p_adjusted: float
    """The Holm-adjusted p-value on the side the claim's logic corrects."""
    seeds_needed: float
    """Seeds per arm that would decide an inconclusive check, planned on its observed
    effect; NaN when decided, or when no number would."""
    seeds_plausible: float
    """The same planned on the far end of its effect's interval (bench.analysis.rules.Plan):
    what ``run --until-decided`` may still try; NaN as above."""


def overall(verdicts: list[str], logic: str = ALL) -> str:
    """A claim's verdict from its checks' (already corrected) verdicts."""
    if not verdicts:
        return INCONCLUSIVE
    decisive, sweeping = ((NOT_REPRODUCED, REPRODUCED) if logic == ALL
                          else (REPRODUCED, NOT_REPRODUCED))
    if decisive in verdicts:
        return decisive
    if all(v == sweeping for v in verdicts):
        return sweeping
    return INCONCLUSIVE


def arm_improvement(data: SuiteData, arm: Arm, metric: str, better: str,
                    spec: ClaimsSpec) -> Improvement | None:
    """Whether the arm's finished seeds still improve ``metric`` over the convergence
    window (the checkpoints every seed has); None when it cannot be tested."""
    finished = data.cell(arm.setting, arm.gan, arm.optimizer)
    finished = set(finished.loc[finished["status"] == "finished", "run_id"])
    rows = data.select(data.metrics, arm.setting, arm.gan, arm.optimizer)
    rows = rows[(rows["metric"] == metric) & rows["run_id"].isin(finished)]
    if rows.empty:
        return None
    series = rows.pivot_table(index="run_id", columns="step", values="value").dropna(axis=1)
    series = series.loc[:, np.isfinite(series).all(axis=0)]
    window = window_size(series.shape[1], spec.trend_fraction)
    series = series.iloc[:, -window:]
    return improvement(series.columns.to_numpy(dtype=float), series.to_numpy(dtype=float),
                       better == LOWER)


def still_improving(trend: Improvement, spec: ClaimsSpec) -> bool:
    """The convergence rule: the seeds' slopes are significantly on the improving side (at
    ``spec.convergence_alpha``) and the fitted change over the window is at least
    ``spec.max_final_change``."""
    return (trend.p_value <= spec.convergence_alpha
            and abs(trend.change) >= spec.max_final_change)


def _still_improving(data: SuiteData, arms: tuple[Arm, ...],
                     spec: ClaimsSpec) -> tuple[str, str]:
    """(why the final values cannot be compared, or ""; notes on series not tested)."""
    still, untested = [], []
    for arm in arms:
        series = [(arm.metric, arm.better)]
        if arm.quality and arm.quality != arm.metric:
            series.append((arm.quality, QUALITY_BETTER))
        for metric, better in series:
            trend = arm_improvement(data, arm, metric, better, spec)
            if trend is None:
                untested.append(f"{arm.name} ({metric})")
            elif still_improving(trend, spec):
                still.append(f"{arm.name} still improving: {metric} {trend.change:+.0%} over "
                             f"the last {trend.points} checkpoints (t-test over its "
                             f"{trend.seeds} seeds' slopes, p={trend.p_value:.3g})")
    note = (f"; convergence not tested for {', '.join(untested)}: fewer than 2 seeds or 3 "
            "checkpoints" if untested else "")
    return "; ".join(still), note


def _corrected(outcomes: list[Outcome], levels: list[float], alpha: float,
               side: str) -> list[float]:
    """Holm over the checks' p-values on ``side`` ("for" or "against"), each scaled to the
    claim's alpha by its own level (alpha / level: 1 unless --until-decided)."""
    raw = [(o.p_value if side == "for" else o.p_against) * alpha / level
           if o.tested else math.nan for o, level in zip(outcomes, levels, strict=True)]
    return holm(raw)


def judge_family(items: list[tuple[Outcome, tuple[Arm, ...], tuple[Cell, ...]]],
                 data: SuiteData, spec: ClaimsSpec, logic: str = ALL,
                 level_of: LevelOf | None = None) -> list[Judged]:
    """The claim's checks (each outcome with the arms whose final values it compares and the
    cells whose seeds it reads) decided at their levels, after the convergence test, the
    claim's logic and the power plan."""
    if logic not in LOGIC_CAPTIONS:
        raise ValueError(f"logic must be one of {sorted(LOGIC_CAPTIONS)}, got {logic!r}")
    levels = [level_of(cells) if level_of else (spec.alpha, spec.alpha)
              for _, _, cells in items]
    outcomes = [o.at(now) for (o, _, _), (now, _) in zip(items, levels, strict=True)]
    blocked = [_still_improving(data, arms, spec) if arms else ("", "") for _, arms, _ in items]
    # a check whose arms still move takes no part in the family: it tests nothing yet
    open_ = [o if not moving else replace(o, p_value=math.nan)
             for o, (moving, _) in zip(outcomes, blocked, strict=True)]
    corrected_side = "against" if logic == ALL else "for"
    adjusted = _corrected(open_, [now for now, _ in levels], spec.alpha, corrected_side)
    tests = sum(o.tested for o in open_)
    judged = []
    for outcome, (moving, note), p_adj, (now, final) in zip(outcomes, blocked, adjusted,
                                                          levels, strict=True):
        evidence, verdict = outcome.evidence + note, outcome.verdict
        corrected = (NOT_REPRODUCED if logic == ALL else REPRODUCED)
        if moving:
            verdict = INCONCLUSIVE
            evidence += f"; final values not compared: {moving}"
        elif verdict == corrected and p_adj > spec.alpha:
            # without the corrected side, the other still stands (an effect shown but not
            # shown below the margin once corrected is still shown)
            verdict = (REPRODUCED if logic == ALL and outcome.p_value <= now
                       else NOT_REPRODUCED if logic == ANY and outcome.p_against <= now
                       else INCONCLUSIVE)
            evidence += (f"; Holm-adjusted p={p_adj:.3g} > alpha={spec.alpha:g} over the "
                         f"claim's {tests} tested checks")
        needed = plausible = math.nan
        if verdict == INCONCLUSIVE and outcome.seeds_for is not None:
            if moving:
                evidence += ("; more seeds do not decide it until the arms converge: more "
                             "generator steps would (a longer budget, or a GPU)")
            else:
                strictest = final / max(tests, 1)
                level_for, level_against = ((final, strictest) if logic == ALL
                                            else (strictest, final))
                plan = outcome.seeds_for(level_for, level_against)
                needed, plausible = (n if math.isfinite(n) else math.nan
                                     for n in (plan.needed, plan.plausible))
                evidence += f"; {plan.text}"
        judged.append(Judged(replace(outcome, verdict=verdict, evidence=evidence),
                             float(p_adj), needed, plausible))
    return judged
