"""Per-run summary: identity, status, counters and final metric values."""

import pandas as pd

from bench.core.results import CELL, diverged, final, final_metric_columns, recipe_runs
from bench.storage.store import ResultsStore


def final_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Each run's metrics at its last recorded checkpoint, one column per metric."""
    if metrics.empty:
        return pd.DataFrame(columns=["run_id"])
    last_step = metrics.groupby("run_id")["step"].transform("max")
    last = metrics[metrics["step"] == last_step]
    wide = last.pivot_table(index="run_id", columns="metric", values="value", aggfunc="last")
    wide = wide.rename(columns=final)
    wide[final("step")] = last.groupby("run_id")["step"].max()
    return wide.reset_index()


def build_summary(store: ResultsStore) -> pd.DataFrame:
    """One row per run; quality metrics of diverged runs are left empty (not their last
    finite values), so averages never mix diverged and healthy runs."""
    runs = store.load_runs()
    if runs.empty:
        return runs
    finals = final_metrics(store.load_metrics())
    summary = runs.merge(finals, on="run_id", how="left")
    summary.loc[diverged(summary), final_metric_columns(summary)] = float("nan")
    return summary.sort_values([*CELL, "seed"]).reset_index(drop=True)


def recipe_results(store: ResultsStore,
                   every_run: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper-recipe runs (``recipe_runs`` of ``every_run``, the store's summary if not
    given) and their checkpoint metrics: what the tables, plots and claims compare."""
    summary = recipe_runs(build_summary(store) if every_run is None else every_run)
    metrics = store.load_metrics()
    return summary, metrics[metrics["run_id"].isin(summary["run_id"])]
