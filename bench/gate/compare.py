"""The regression gate: is a candidate results folder worse than a baseline, beyond seed noise?

Both folders must hold complete results of the same suite (any seeds). The suite's ``gates:``
section (the candidate's, so the code under review sets the policy) gives the thresholds.
Per (dataset, architecture, GAN, optimizer) cell, three kinds of check:

- **quality**, one per gated final metric: a regression when the candidate's mean over seeds
  is worse than the baseline's by at least the metric's margin (absolute, or relative to the
  baseline mean) *and* an exact one-sided permutation test of the difference of means says
  the worsening is not seed noise;
- **divergence**: a regression when the divergence rate rises by at least
  ``divergence_margin`` *and* Fisher's exact one-sided test (the same permutation test on
  diverged/finished indicators) is significant;
- **throughput**: a regression when the candidate's median generator steps per second over
  the baseline's is below ``min_throughput_ratio``. Runs of one seed batch share one
  throughput figure, so there is no seed sample to test; timings from different machines
  measure the machines, so those checks are skipped.

Why this rule. With a handful of seeds, seed-to-seed spread is as large as many effects CI
should catch. A margin alone ("worse than the baseline's CI by X") has a false-alarm rate set
by each metric's spread that grows with the number of cells and metrics; a test alone flags
tiny, consistent changes nobody cares about. So both must agree. The permutation test is
exact at any n (no normality, no large-sample approximation), copes with the ties of integer
metrics such as modes_captured (Mann-Whitney's exact tables assume no ties), and tests the
same difference of means the margin is stated in. All seed tests of one comparison are
Holm-corrected together at ``alpha``, so unchanged code raises a false alarm with probability
at most ``alpha`` however many cells and metrics the suite gates. The price is a floor on
seeds: n + n seeds cannot give a p-value below 1 / C(2n, n), so a gate that could never fire
is refused rather than reported as passing. With the ci suite's 8 + 8 seeds and 30 tests, a
mean shift of 2 (2.5) seed standard deviations is caught 65% (90%) of the time (simulated
with normal seeds in tests/test_gate.py), and a cell whose divergence goes from 0/8 to 7/8 is
flagged but 0/8 to 6/8 is not: eight seeds cannot tell that from luck within a 5% budget
spread over 30 tests.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bench.config.expansion import expand
from bench.config.suite_config import SuiteConfig
from bench.core.errors import BenchError
from bench.core.outputs import DIVERGENCE_RATE, LOWER, THROUGHPUT
from bench.core.results import CELL, diverged, final
from bench.core.specs import Gates
from bench.data import get_dataset
from bench.gate.load import Side, check_compatible, load_side, machine, open_results
from bench.gate.permutation import permutation_p, smallest_p
from bench.metrics.declarations import output_range
from bench.stats import Range, mean_ci
from bench.stats.tests import holm

PASS, REGRESSION, SKIPPED = "pass", "regression", "skipped"


@dataclass(frozen=True)
class GateCheck:
    """One verdict: a metric of one cell, the divergence rate, or the throughput."""

    dataset: str
    arch: str
    gan: str
    optimizer: str
    metric: str
    kind: str
    """quality, divergence or throughput."""
    baseline: float
    """Mean over seeds (quality), divergence rate, or median steps/s (throughput)."""
    candidate: float
    worsening: float
    """How much worse the candidate is, in the metric's units (negative: better); for
    throughput, 1 - candidate / baseline."""
    threshold: float
    """The worsening (or, for throughput, the ratio) at which a regression starts."""
    p_value: float
    """Holm-adjusted one-sided p-value; NaN where no test applies."""
    verdict: str
    note: str = ""
    baseline_ci: tuple[float, float] = (math.nan, math.nan)
    candidate_ci: tuple[float, float] = (math.nan, math.nan)
    n_baseline: int = 0
    n_candidate: int = 0


@dataclass(frozen=True)
class GateResult:
    """Every check of one baseline/candidate pair, in table order."""

    suite: str
    gates: Gates
    baseline: Side
    candidate: Side
    checks: tuple[GateCheck, ...]

    @property
    def regressions(self) -> list[GateCheck]:
        return [c for c in self.checks if c.verdict == REGRESSION]


def fewest_seeds(config: SuiteConfig, baseline_seeds: int | None = None) -> int:
    """The fewest seeds per cell with which ``config``'s gate can ever fire against a
    baseline of ``baseline_seeds`` seeds (default: the same suite's own count): its smallest
    p-value must reach alpha / tests, counting a test per cell and gated metric plus the
    divergence rate (an upper bound: a metric a dataset lacks is not tested)."""
    tests = len({s.cell for s in expand(config)}) * (len(config.gates.metrics) + 1)
    level = config.gates.alpha / tests
    n = 2
    while smallest_p(baseline_seeds or n, n) > level:
        n += 1
    return n


# --- checks ---------------------------------------------------------------------------


def _ci(values: np.ndarray, value_range: Range) -> tuple[float, float]:
    """The report's interval of the mean (bench.stats.mean_ci): inside the metric's range."""
    est = mean_ci(values, value_range)
    return est.low, est.high


def _quality(keys: tuple, metric: str, base: pd.DataFrame, cand: pd.DataFrame,
             gates: Gates) -> tuple[GateCheck, float] | None:
    """The check and its raw p-value; None when neither side recorded the metric here."""
    gate = dict(gates.metrics)[metric]
    b = base[final(metric)].to_numpy(float)
    c = cand[final(metric)].to_numpy(float)
    b, c = b[np.isfinite(b)], c[np.isfinite(c)]
    if len(b) == 0 and len(c) == 0:
        return None  # e.g. mode coverage on a dataset without modes
    sign = 1.0 if gate.better == LOWER else -1.0
    value_range = output_range(metric, get_dataset(keys[CELL.index("dataset")]))
    b_mean = float(b.mean()) if len(b) else math.nan
    c_mean = float(c.mean()) if len(c) else math.nan
    threshold = gate.margin * abs(b_mean) if gate.relative else gate.margin
    check = GateCheck(
        *keys, metric=metric, kind="quality", baseline=b_mean, candidate=c_mean,
        worsening=sign * (c_mean - b_mean), threshold=threshold, p_value=math.nan,
        verdict=SKIPPED, baseline_ci=_ci(b, value_range), candidate_ci=_ci(c, value_range),
        n_baseline=len(b),
        n_candidate=len(c),
        note=f"{gate.better} is better by the suite's gates:, against the metric registry"
        if gate.overrides else "",
    )
    if len(b) < 2 or len(c) < 2:
        note = "; ".join(filter(None, [check.note, "fewer than 2 finite values on a side"]))
        return replace(check, note=note), math.nan
    return check, permutation_p(sign * c, sign * b)


def _divergence(keys: tuple, base: pd.DataFrame, cand: pd.DataFrame,
                gates: Gates) -> tuple[GateCheck, float]:
    d_b, n_b = int(diverged(base).sum()), len(base)
    d_c, n_c = int(diverged(cand).sum()), len(cand)
    table = [[d_c, n_c - d_c], [d_b, n_b - d_b]]
    p = float(stats.fisher_exact(table, alternative="greater")[1])
    check = GateCheck(
        *keys, metric=DIVERGENCE_RATE, kind="divergence", baseline=d_b / n_b, candidate=d_c / n_c,
        worsening=d_c / n_c - d_b / n_b, threshold=gates.divergence_margin, p_value=math.nan,
        verdict=SKIPPED, n_baseline=n_b, n_candidate=n_c,
    )
    return check, p


def _throughput(keys: tuple, base: pd.DataFrame, cand: pd.DataFrame, gates: Gates,
                same_machine: bool) -> GateCheck:
    column = final(THROUGHPUT)
    b, c = base[column].dropna(), cand[column].dropna()
    b_med = float(b.median()) if len(b) else math.nan
    c_med = float(c.median()) if len(c) else math.nan
    check = GateCheck(
        *keys, metric=THROUGHPUT, kind="throughput", baseline=b_med, candidate=c_med,
        worsening=1 - c_med / b_med, threshold=gates.min_throughput_ratio, p_value=math.nan,
        verdict=SKIPPED, n_baseline=len(b), n_candidate=len(c),
    )
    if not same_machine:
        return replace(check, note="measured on different machines")
    if not (len(b) and len(c)):
        return replace(check, note="no finished run on a side")
    ratio = c_med / b_med
    verdict = REGRESSION if ratio < gates.min_throughput_ratio else PASS
    return replace(check, verdict=verdict, note=f"ratio {ratio:.2f}")


def judge(base: pd.DataFrame, cand: pd.DataFrame, gates: Gates,
          same_machine: bool = True) -> tuple[GateCheck, ...]:
    """Every check of the candidate's summary rows against the baseline's, cell by cell, in
    table order: the gate's decision on plain values (one row per run, with the ``CELL``
    columns, ``status`` and each gated ``final_<metric>``)."""
    tested: list[tuple[GateCheck, float]] = []
    throughput: list[GateCheck] = []
    base_cells = dict(iter(base.groupby(CELL, sort=True)))
    for keys, cand_cell in cand.groupby(CELL, sort=True):
        base_cell = base_cells[keys]
        for metric, _ in gates.metrics:
            quality = _quality(keys, metric, base_cell, cand_cell, gates)
            if quality is not None:
                tested.append(quality)
        tested.append(_divergence(keys, base_cell, cand_cell, gates))
        throughput.append(_throughput(keys, base_cell, cand_cell, gates, same_machine))

    raw = [p for _, p in tested if not math.isnan(p)]
    adjusted = iter(holm(raw))
    checks = []
    for check, p in tested:
        if math.isnan(p):
            checks.append(check)
            continue
        p_adj = next(adjusted)
        bad = p_adj <= gates.alpha and check.worsening >= check.threshold
        checks.append(replace(check, p_value=p_adj, verdict=REGRESSION if bad else PASS))
    order = {key: i for i, key in enumerate([m for m, _ in gates.metrics]
                                            + [DIVERGENCE_RATE, THROUGHPUT])}
    return tuple(sorted([*checks, *throughput],
                        key=lambda c: (c.dataset, c.arch, c.gan, c.optimizer, order[c.metric])))


def run_gate(baseline_dir: Path, candidate_dir: Path,
             progress: Callable[[str], None] | None = None) -> GateResult:
    """Judge ``candidate_dir`` against ``baseline_dir`` with the suite's gates; ``progress``
    hears each stage as it starts."""
    say = progress or (lambda _: None)
    stores = open_results(baseline_dir, "baseline"), open_results(candidate_dir, "candidate")
    configs = stores[0].load_suite(), stores[1].load_suite()
    gates = check_compatible(*configs)
    say("verifying both folders' manifests")
    for store in stores:  # before any run is read: nothing damaged is read as data
        store.verify()
    say("reading the baseline's runs")
    base = load_side(stores[0], configs[0], gates, "baseline")
    say("reading the candidate's runs")
    cand = load_side(stores[1], configs[1], gates, "candidate")
    same_machine = machine(base.provenance) == machine(cand.provenance)
    say(f"testing {len(gates.metrics)} gated metric(s) over seeds")
    checks = judge(base.summary, cand.summary, gates, same_machine)

    n_tests = sum(not math.isnan(c.p_value) for c in checks)
    floor = smallest_p(len(base.config.seeds), len(cand.config.seeds))
    if n_tests and floor > gates.alpha / n_tests:
        raise BenchError(
            f"too few seeds for the gate to ever fire: with {len(base.config.seeds)} + "
            f"{len(cand.config.seeds)} seeds the smallest p-value is {floor:.2g}, above alpha / "
            f"tests = {gates.alpha:g} / {n_tests}; use more seeds or gate fewer metrics"
        )
    return GateResult(cand.config.name, gates, base, cand, checks)
