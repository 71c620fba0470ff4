"""Comparing two suite folders' results, timings aside (the resume and executor tests)."""

from pathlib import Path

import pandas as pd

from bench.report.summary import build_summary
from bench.storage.store import ResultsStore

TIMING = ("train_seconds", "eval_seconds", "gen_steps_per_s", "critic_steps_per_s",
          "samples_per_s")
"""Wall-clock metrics and counters: the only things a resumed run may change."""


def summary_without_timing(root: Path) -> pd.DataFrame:
    """The summary (identity, status, counters, final metrics) minus wall-clock columns."""
    summary = build_summary(ResultsStore(root))
    return summary.drop(columns=[c for c in summary.columns
                                 if c.removeprefix("final_") in TIMING])


def rows_without_timing(root: Path) -> pd.DataFrame:
    """Every tidy metric row of every run, wall-clock metrics aside, in a fixed order."""
    metrics = ResultsStore(root).load_metrics()
    rows = metrics[~metrics["metric"].isin(TIMING)]
    return rows.sort_values(["run_id", "step", "metric"]).reset_index(drop=True)


def assert_same_results(root: Path, reference: Path) -> None:
    """Same runs, statuses, counters and metric rows (to 1e-6), none lost or duplicated."""
    pd.testing.assert_frame_equal(summary_without_timing(root),
                                  summary_without_timing(reference), rtol=1e-6)
    rows = rows_without_timing(root)
    duplicated = rows[rows.duplicated(["run_id", "step", "metric"], keep=False)]
    assert duplicated.empty, f"duplicated rows:\n{duplicated}"
    pd.testing.assert_frame_equal(rows, rows_without_timing(reference), rtol=1e-6)
