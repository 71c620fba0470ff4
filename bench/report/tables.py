"""Tables: mean and 95% CI over seeds for each dataset x GAN x optimizer (bench.stats.mean_ci,
each interval inside its metric's declared range)."""

import pandas as pd

from bench.core.results import CELL, DIVERGED, FINAL, final
from bench.data import get_dataset
from bench.metrics.registry import better, output_names, output_range
from bench.stats import NONNEGATIVE, Range, mean_ci, rate_ci

# (column in the summary, heading) in display order; the direction that is better comes from
# the metric registry
TABLE_METRICS: list[tuple[str, str]] = [
    (final("w1"), "W1"),
    (final("fid"), "FID"),
    (final("kid"), "KID"),
    (final("is"), "IS"),
    (final("fd_digits"), "FD digits-CNN"),
    (final("modes_captured"), "modes captured"),
    (final("modes_well_captured"), "modes >=10% share"),
    (final("hq_fraction"), "high-quality fraction"),
    (final("reverse_kl_hq"), "reverse KL of HQ samples (nats)"),
    (final("reverse_kl"), "reverse KL (nats)"),
    (final("precision"), "precision"),
    (final("recall"), "recall"),
    (final("density"), "density"),
    (final("coverage"), "coverage"),
    (final("divergence_estimate"), "critic estimate"),
    (final("gen_steps_per_s"), "gen steps/s"),
    ("train_seconds", "train s"),
]
HEADLINE = tuple(map(final, ("w1", "fid", "fd_digits", "modes_captured", "precision",
                             "recall")))
"""The columns report.md shows (with seeds and diverged); tables/<dataset>.md has them all."""
COUNTER_RANGES = {final("gen_steps_per_s"): NONNEGATIVE, "train_seconds": NONNEGATIVE}
"""Summary columns that are the trainer's counters, not registered metric outputs."""
INTERVALS_CAPTION = (
    "Cells show the mean over seeds and its 95% CI in brackets, inside the metric's range: "
    "for bounded metrics (shares in [0, 1], mode counts in [0, modes]) the Wilson score "
    "interval on the effective number of seeds (Korn-Graubard); otherwise a Student-t "
    "interval below 20 seeds and a BCa bootstrap interval from 20, cut at the range's end "
    "(`ci_method` in tables/cells.csv). Diverged runs are excluded from the means and "
    "counted in 'diverged'; the divergence rate's CI (tables/divergence.csv) is Wilson's.")


def column_range(column: str, dataset: str) -> Range:
    """The range of a summary column's values on ``dataset``."""
    if column in COUNTER_RANGES:
        return COUNTER_RANGES[column]
    return output_range(column.removeprefix(FINAL), get_dataset(dataset))


def cell_statistics(summary: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (cell, metric) with n, mean, ci_low, ci_high and ci_method
    ("t" or "bca"; empty for a single value)."""
    records = []
    for keys, cell in summary.groupby(CELL, sort=True):
        dataset = dict(zip(CELL, keys, strict=True))["dataset"]
        for column, _ in TABLE_METRICS:
            if column not in cell:
                continue
            est = mean_ci(cell[column].to_numpy(dtype=float), column_range(column, dataset))
            if est.n == 0:
                continue
            records.append(
                dict(zip(CELL, keys, strict=True))
                | {"metric": column.removeprefix(FINAL), "n": est.n, "mean": est.mean,
                   "ci_low": est.low, "ci_high": est.high, "ci_method": est.method}
            )
    return pd.DataFrame.from_records(
        records, columns=CELL + ["metric", "n", "mean", "ci_low", "ci_high", "ci_method"]
    )


def divergence_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per cell: seeds run, seeds diverged, divergence rate with its Wilson 95% CI."""
    grouped = summary.groupby(CELL, sort=True)
    table = grouped.agg(
        seeds=("seed", "count"), diverged=("status", lambda s: int((s == DIVERGED).sum()))
    )
    rates = [rate_ci(d, n) for d, n in zip(table["diverged"], table["seeds"], strict=True)]
    table["divergence_rate"] = [r.mean for r in rates]
    table["rate_ci_low"] = [r.low for r in rates]
    table["rate_ci_high"] = [r.high for r in rates]
    return table.reset_index()


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A plain Markdown table of ``frame`` (numbers to 3 significant digits)."""
    def cell(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def _heading(column: str, heading: str) -> str:
    """A table heading with the direction the metric registry declares better, if any."""
    metric = column.removeprefix(FINAL)
    direction = better(metric) if metric in output_names() else None
    return f"{heading} ({direction} better)" if direction else heading


def markdown_table(summary: pd.DataFrame, dataset: str, headline: bool = False) -> str:
    """One Markdown table of a dataset's cells: 'mean [95% CI]' per metric (an architecture
    column where the dataset has several); ``headline``: only the ``HEADLINE`` metrics."""
    rows = summary[summary["dataset"] == dataset]
    columns = [(c, h) for c, h in TABLE_METRICS if c in rows and rows[c].notna().any()
               and (not headline or c in HEADLINE)]
    several = rows["arch"].nunique() > 1
    header = (["architecture"] if several else []) + ["GAN", "optimizer", "seeds", "diverged"]
    header += [_heading(c, h) for c, h in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (arch, gan, optimizer), cell in rows.groupby(["arch", "gan", "optimizer"], sort=True):
        diverged = int((cell["status"] == DIVERGED).sum())
        values = [mean_ci(cell[c].to_numpy(dtype=float), column_range(c, dataset)).format()
                  for c, _ in columns]
        first = [arch] if several else []
        lines.append("| " + " | ".join([*first, gan, optimizer, str(len(cell)), str(diverged),
                                        *values]) + " |")
    return "\n".join(lines)
