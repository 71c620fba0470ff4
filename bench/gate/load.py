"""The gate's inputs: two results folders, each verified and complete, of one suite trained
and measured the same way (seeds aside)."""

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd

from bench.config.expansion import expand
from bench.config.suite_config import SuiteConfig
from bench.core.errors import BenchError
from bench.core.results import final, recipe_runs
from bench.core.specs import RECIPE_PHASE, Gates, RunSpec
from bench.report.summary import build_summary
from bench.storage.run_files import load_provenance
from bench.storage.store import ResultsStore

MACHINE_KEYS = ("device", "device_name", "cpu_count", "hostname")
"""Provenance that must match for throughput to compare code rather than machines."""


@dataclass(frozen=True)
class Side:
    """One results folder, loaded and checked for completeness."""

    path: Path
    config: SuiteConfig
    summary: pd.DataFrame
    provenance: dict


def open_results(path: Path, role: str) -> ResultsStore:
    """The results folder at ``path`` (``role``: baseline or candidate, for the error)."""
    if not Path(path).is_dir():
        raise BenchError(f"{role}: no such results folder: {path}")
    return ResultsStore(Path(path))


def load_side(store: ResultsStore, config: SuiteConfig, gates: Gates, role: str) -> Side:
    """The folder's summary, refused unless every run of its suite finished and every gated
    metric was recorded."""
    # the paper-recipe runs, as the report compares them: a study's trials are not seeds
    summary = recipe_runs(build_summary(store))
    expected = {spec.run_id for spec in expand(config) if spec.study.phase == RECIPE_PHASE}
    done = set(summary["run_id"]) if not summary.empty else set()
    missing = sorted(expected - done)
    if missing:
        raise BenchError(
            f"{role} {store.root} is incomplete: {len(expected) - len(missing)} of "
            f"{len(expected)} runs finished (missing e.g. {missing[0]}); finish it with "
            f"'run_bench.py run --suite {config.name} --out {store.root}'"
        )
    summary = summary[summary["run_id"].isin(expected)].reset_index(drop=True)
    recorded = set(store.load_metrics()["metric"])
    for metric, _ in gates.metrics:
        if metric not in recorded:
            raise BenchError(f"gated metric '{metric}' is not recorded in {store.root}; "
                             f"recorded: {', '.join(sorted(recorded))}")
        if final(metric) not in summary:  # recorded, but NaN in every run
            summary[final(metric)] = math.nan
    provenance = load_provenance(store.run_dirs()[0])
    return Side(store.root, config, summary, provenance)


def _runs_without_seed(config: SuiteConfig) -> set[RunSpec]:
    return {replace(spec, seed=0) for spec in expand(config)}


def check_compatible(base: SuiteConfig, cand: SuiteConfig) -> Gates:
    """Both must have trained and measured the same runs, seeds aside (report-only settings
    may differ); returns the gates to apply."""
    if base.name != cand.name:
        raise BenchError(
            f"cannot compare different suites: baseline is '{base.name}', candidate is "
            f"'{cand.name}'; run the candidate with --suite {base.name}"
        )
    a, b = _runs_without_seed(base), _runs_without_seed(cand)
    if a != b:
        differ = []
        for f in fields(RunSpec):
            values_a = sorted({str(getattr(s, f.name)) for s in a})
            values_b = sorted({str(getattr(s, f.name)) for s in b})
            if values_a != values_b:
                differ.append(f"{f.name}: {', '.join(values_a)} vs {', '.join(values_b)}")
        raise BenchError(
            f"suite '{base.name}' differs between baseline and candidate "
            f"({'; '.join(differ) or 'in how its axes combine'}); only seeds may differ, so "
            "regenerate the baseline if the suite changed on purpose"
        )
    if cand.gates is None:
        raise BenchError(
            f"suite '{cand.name}' has no 'gates:' section, so there is nothing to judge; add "
            "one to its YAML (see bench/suites/ci.yaml)"
        )
    return cand.gates


def machine(provenance: dict) -> dict:
    """The machine a side's runs were timed on (``MACHINE_KEYS`` of its provenance)."""
    return {key: provenance.get(key) for key in MACHINE_KEYS}
