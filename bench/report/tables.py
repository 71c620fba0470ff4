"""Tables: mean and 95% CI over seeds for each dataset x GAN x optimizer (bench.stats.mean_ci,
each interval inside its metric's declared range); columns, headings and directions from the
output table (bench.core.outputs)."""

from dataclasses import fields

import pandas as pd

from bench.core.outputs import DIVERGENCE_RATE, Output, better, table_outputs
from bench.core.results import CELL, DIVERGED, FINAL, Counters, final
from bench.data import get_dataset
from bench.metrics.declarations import output_range
from bench.stats import Range, mean_ci, rate_ci

_COUNTERS = {f.name for f in fields(Counters)}


def table_column(output: Output) -> str:
    """The summary column the tables show for ``output``: a run's final value, or for a
    budget counter its total in status.json, which a diverged run keeps."""
    return output.name if output.name in _COUNTERS else final(output.name)


def table_columns(headline: bool = False) -> list[tuple[str, str]]:
    """(summary column, heading) of each table column in display order (the output table's,
    bench.core.outputs); ``headline``: only those report.md shows (with seeds and
    diverged), tables/<dataset>.md has them all."""
    return [(table_column(o), o.heading) for o in table_outputs(headline)]


INTERVALS_CAPTION = (
    "Cells show the mean over seeds and its 95% CI in brackets, inside the metric's range: "
    "for bounded metrics (shares in [0, 1], mode counts in [0, modes]) the Wilson score "
    "interval on the effective number of seeds (Korn-Graubard); otherwise a Student-t "
    "interval below 20 seeds and a BCa bootstrap interval from 20, cut at the range's end "
    "(`ci_method` in tables/cells.csv). Diverged runs are excluded from the means and "
    "counted in 'diverged'; the divergence rate's CI (tables/divergence.csv) is Wilson's.")


def column_range(column: str, dataset: str) -> Range:
    """The range of a summary column's values on ``dataset``."""
    return output_range(column.removeprefix(FINAL), get_dataset(dataset))


def cell_statistics(summary: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (cell, metric) with n, mean, ci_low, ci_high and ci_method
    ("t" or "bca"; empty for a single value)."""
    records = []
    for keys, cell in summary.groupby(CELL, sort=True):
        dataset = dict(zip(CELL, keys, strict=True))["dataset"]
        for column, _ in table_columns():
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
    table[DIVERGENCE_RATE] = [r.mean for r in rates]
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
    """A table heading with the direction its output declares better, if any."""
    direction = better(column.removeprefix(FINAL))
    return f"{heading} ({direction} better)" if direction else heading


def markdown_table(summary: pd.DataFrame, dataset: str, headline: bool = False) -> str:
    """One Markdown table of a dataset's cells: 'mean [95% CI]' per metric (an architecture
    column where the dataset has several); ``headline``: only report.md's columns."""
    rows = summary[summary["dataset"] == dataset]
    columns = [(c, h) for c, h in table_columns(headline) if c in rows and rows[c].notna().any()]
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
