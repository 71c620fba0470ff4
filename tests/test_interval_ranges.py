"""No interval leaves its quantity's declared range: the interval functions on any values
inside any range, and every interval the tables write for registered metrics."""

import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from bench.analysis.correlation import cell_correlations
from bench.core.results import CELL
from bench.data import get_dataset
from bench.metrics.declarations import output_range
from bench.metrics.registry import METRICS
from bench.report.tables import cell_statistics, column_range, divergence_table, table_columns
from bench.stats import CORRELATION, NONNEGATIVE, UNBOUNDED, UNIT, Range, counts, mean_ci
from bench.stats.tests import cliffs_delta_ci
from tests.conftest import slow_property

RANGES = st.sampled_from([UNIT, CORRELATION, counts(8), counts(25), counts(1000), NONNEGATIVE,
                          UNBOUNDED, Range(-3.0, 0.5)])


def _within(value_range: Range, low: float, high: float) -> bool:
    return value_range.low <= low <= high <= value_range.high


@st.composite
def values_in(draw, value_range: Range) -> list[float]:
    low = value_range.low if math.isfinite(value_range.low) else -1e6
    high = value_range.high if math.isfinite(value_range.high) else 1e6
    pool = st.one_of(st.sampled_from([low, high]),  # values piled at an end
                     st.floats(low, high, allow_nan=False, allow_infinity=False))
    return draw(st.lists(pool, min_size=2, max_size=25))


@slow_property(fast=60)
@given(data=st.data(), value_range=RANGES)
def test_mean_intervals_stay_in_their_range(data, value_range: Range):
    values = data.draw(values_in(value_range))
    est = mean_ci(values, value_range)
    assert _within(value_range, est.low, est.high), (values, est)
    assert est.method


@slow_property(fast=40)
@given(a=st.lists(st.floats(-5, 5) | st.just(math.inf), min_size=2, max_size=8),
       b=st.lists(st.floats(-5, 5) | st.just(math.inf), min_size=2, max_size=8))
def test_cliffs_delta_interval_stays_in_minus_one_to_one(a, b):
    low, high = cliffs_delta_ci(a, b)
    assert _within(CORRELATION, low, high)


def test_every_registered_output_declares_its_range():
    for metric in METRICS.values():
        for output in metric.outputs:
            assert isinstance(output.range, Range) or callable(output.range), output.name
    assert output_range("modes_captured", get_dataset("grid25")) == counts(25)
    assert output_range("modes_captured", get_dataset("stacked-digits")) == counts(1000)
    assert output_range("recall", get_dataset("ring8")) == UNIT
    assert output_range("w1", get_dataset("ring8")) == NONNEGATIVE


DATASETS = ("ring8", "grid25", "digits")


@st.composite
def summaries(draw) -> pd.DataFrame:
    """A summary of 1-6 seeds per cell whose final values lie in each column's range, piled
    at its ends or spread over it."""
    records = []
    for dataset in DATASETS:
        for gan in ("gan", "wgan-gp"):
            for seed in range(draw(st.integers(1, 6))):
                record = {"run_id": f"{dataset}-{gan}-{seed}", "dataset": dataset,
                          "arch": "mlp", "gan": gan, "optimizer": "adam", "seed": seed,
                          "status": draw(st.sampled_from(["finished", "finished", "diverged"]))}
                for column, _ in table_columns():
                    r = column_range(column, dataset)
                    high = r.high if math.isfinite(r.high) else 50.0
                    low = r.low if math.isfinite(r.low) else -50.0
                    record[column] = draw(st.sampled_from([low, high]) | st.floats(low, high))
                records.append(record)
    return pd.DataFrame.from_records(records)


@slow_property(fast=15)
@given(summary=summaries())
def test_no_table_interval_leaves_its_metric_range(summary: pd.DataFrame):
    cells = cell_statistics(summary)
    assert not cells.empty
    for row in cells.itertuples(index=False):
        if not math.isnan(row.ci_low):
            r = column_range(f"final_{row.metric}", row.dataset)
            assert _within(r, row.ci_low, row.ci_high), row
    rates = divergence_table(summary)
    assert ((rates["rate_ci_low"] >= 0) & (rates["rate_ci_high"] <= 1)).all()


@slow_property(fast=15)
@given(rhos=st.lists(st.sampled_from([-1.0, 1.0]) | st.floats(-1, 1), min_size=2,
                     max_size=10))
def test_correlation_intervals_stay_in_minus_one_to_one(rhos):
    per_run = pd.DataFrame({c: "x" for c in CELL} | {
        "rho_train": rhos, "tau_train": rhos, "rho_heldout": np.nan, "tau_heldout": np.nan},
        index=range(len(rhos)))
    cells = cell_correlations(per_run).dropna(subset=["ci_low"])
    assert not cells.empty
    assert ((cells["ci_low"] >= -1) & (cells["ci_high"] <= 1)).all()
