"""Tables: mean and 95% CI over seeds for each dataset x GAN x optimizer (bench.stats.mean_ci:
Student-t for few seeds, BCa bootstrap for many)."""

import pandas as pd

from bench.results import CELL
from bench.stats import mean_ci

# (column in the summary, heading, lower is better?) in display order
TABLE_METRICS: list[tuple[str, str]] = [
    ("final_w1", "W1 (lower better)"),
    ("final_fid", "FID (lower better)"),
    ("final_kid", "KID (lower better)"),
    ("final_is", "IS (higher better)"),
    ("final_fd_digits", "FD digits-CNN (lower better)"),
    ("final_modes_captured", "modes captured"),
    ("final_modes_well_captured", "modes >=10% share"),
    ("final_hq_fraction", "high-quality fraction"),
    ("final_reverse_kl_hq", "reverse KL of HQ samples (nats)"),
    ("final_reverse_kl", "reverse KL (nats)"),
    ("final_precision", "precision"),
    ("final_recall", "recall"),
    ("final_density", "density"),
    ("final_coverage", "coverage"),
    ("final_divergence_estimate", "critic estimate"),
    ("final_gen_steps_per_s", "gen steps/s"),
    ("train_seconds", "train s"),
]


def cell_statistics(summary: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (cell, metric) with n, mean, ci_low, ci_high and ci_method
    ("t" or "bca"; empty for a single value)."""
    records = []
    for keys, cell in summary.groupby(CELL, sort=True):
        for column, _ in TABLE_METRICS:
            if column not in cell:
                continue
            est = mean_ci(cell[column].to_numpy(dtype=float))
            if est.n == 0:
                continue
            records.append(
                dict(zip(CELL, keys, strict=True))
                | {"metric": column.removeprefix("final_"), "n": est.n, "mean": est.mean,
                   "ci_low": est.low, "ci_high": est.high, "ci_method": est.method}
            )
    return pd.DataFrame.from_records(
        records, columns=CELL + ["metric", "n", "mean", "ci_low", "ci_high", "ci_method"]
    )


def divergence_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per cell: seeds run, seeds diverged, divergence rate."""
    grouped = summary.groupby(CELL, sort=True)
    table = grouped.agg(
        seeds=("seed", "count"), diverged=("status", lambda s: int((s == "diverged").sum()))
    )
    table["divergence_rate"] = table["diverged"] / table["seeds"]
    return table.reset_index()


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A plain Markdown table of ``frame`` (numbers to 3 significant digits)."""
    def cell(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def markdown_table(summary: pd.DataFrame, dataset: str) -> str:
    """One Markdown table of a dataset's cells: 'mean [95% CI]' per metric (an architecture
    column where the dataset has several)."""
    rows = summary[summary["dataset"] == dataset]
    columns = [(c, h) for c, h in TABLE_METRICS if c in rows and rows[c].notna().any()]
    several = rows["arch"].nunique() > 1
    header = (["architecture"] if several else []) + ["GAN", "optimizer", "seeds", "diverged"]
    header += [h for _, h in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (arch, gan, optimizer), cell in rows.groupby(["arch", "gan", "optimizer"], sort=True):
        diverged = int((cell["status"] == "diverged").sum())
        values = [mean_ci(cell[c].to_numpy(dtype=float)).format() for c, _ in columns]
        first = [arch] if several else []
        lines.append("| " + " | ".join([*first, gan, optimizer, str(len(cell)), str(diverged),
                                        *values]) + " |")
    return "\n".join(lines)
