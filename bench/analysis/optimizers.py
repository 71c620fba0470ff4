"""The optimizer comparison: Adam vs RMSProp (or any optimizer axis) per GAN and dataset.

Stability is measured per cell by the divergence rate and the spread (std over seeds) of the
final quality; the WGAN paper's Adam diagnostic, the cosine between Adam's critic step and
the gradient, is summarised where it was recorded.
"""

import math

import numpy as np
import pandas as pd

from bench.analysis.correlation import quality_metric
from bench.core.outputs import ADAM_COSINE
from bench.core.results import CELL, SETTING, diverged, final, with_settings
from bench.data import get_dataset
from bench.metrics.declarations import output_range
from bench.stats import Estimate, mean_ci, rate_ci


def optimizer_table(summary: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset x architecture x GAN x optimizer (with its ``setting`` label):
    seeds, diverged, divergence_rate with its Wilson 95% CI, the final quality's mean, 95% CI
    (and its method, see bench.stats.mean_ci) and std over finished seeds, final modes
    captured (likewise), and the Adam cosine (mean over checkpoints and seeds, minimum, share
    of negative checkpoints)."""
    records = []
    for keys, cell in with_settings(summary).groupby(CELL, sort=True):
        rows = metrics[metrics["run_id"].isin(cell["run_id"])]
        quality = quality_metric(rows["metric"].unique())
        record = dict(zip(CELL, keys, strict=True)) | {
            SETTING: cell[SETTING].iloc[0], "seeds": len(cell),
            "diverged": int(diverged(cell).sum()), "quality_metric": quality}
        rate = rate_ci(record["diverged"], len(cell))
        record |= {"divergence_rate": rate.mean, "divergence_rate_low": rate.low,
                   "divergence_rate_high": rate.high}
        dataset = get_dataset(record["dataset"])
        finals = cell[final(quality)].to_numpy(dtype=float) if quality else np.zeros(0)
        finals = finals[np.isfinite(finals)]
        est = mean_ci(finals, output_range(quality, dataset)) if quality else mean_ci([])
        record |= {"quality_n": est.n, "quality_mean": est.mean, "quality_ci_low": est.low,
                   "quality_ci_high": est.high, "quality_ci_method": est.method,
                   "quality_std": float(np.std(finals)) if len(finals) else math.nan}
        modes = mean_ci(cell[final("modes_captured")].to_numpy(dtype=float),
                        output_range("modes_captured", dataset)) \
            if final("modes_captured") in cell else mean_ci([])
        record |= {"modes_n": modes.n, "modes_mean": modes.mean, "modes_ci_low": modes.low,
                   "modes_ci_high": modes.high, "modes_ci_method": modes.method}
        cosine = rows.loc[rows["metric"] == ADAM_COSINE, "value"].to_numpy(dtype=float)
        record |= {"adam_cosine_mean": cosine.mean() if len(cosine) else math.nan,
                   "adam_cosine_min": cosine.min() if len(cosine) else math.nan,
                   "adam_cosine_negative": (cosine < 0).mean() if len(cosine) else math.nan}
        records.append(record)
    return pd.DataFrame.from_records(records)


def optimizer_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, one line per cell."""
    header = ["setting", "GAN", "optimizer", "seeds", "diverged", "final quality [95% CI]",
              "std over seeds", "modes [95% CI]", "Adam cosine mean / min / <0"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        cosine = "-" if math.isnan(row.adam_cosine_mean) else (
            f"{row.adam_cosine_mean:+.2f} / {row.adam_cosine_min:+.2f} / "
            f"{row.adam_cosine_negative:.0%}")
        quality = Estimate(row.quality_mean, row.quality_ci_low, row.quality_ci_high,
                           row.quality_n)
        modes = Estimate(row.modes_mean, row.modes_ci_low, row.modes_ci_high, row.modes_n)
        cells = [getattr(row, SETTING), row.gan, row.optimizer, str(row.seeds), str(row.diverged),
                 f"{row.quality_metric} {quality.format()}", f"{row.quality_std:.3g}",
                 modes.format(), cosine]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
