"""Everything the claims need from one results folder, loaded once."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.correlation import quality_metric, run_correlations
from bench.config import SuiteConfig
from bench.data import IMAGE, get_dataset
from bench.diagnostics.critic_outputs import DIAGNOSTICS_DIR, GRADIENT_FILE, gradient_summary
from bench.diagnostics.weights import load_critic_weights, piled_fraction
from bench.results import IDENTITY

CONSTRAINED_GANS = ("wgan-clip", "wgan-gp")  # the critics whose weights are compared


@dataclass
class SuiteData:
    root: Path
    config: SuiteConfig
    summary: pd.DataFrame
    """One row per run (bench.report.summary.build_summary)."""
    metrics: pd.DataFrame
    """Tidy checkpoint rows of every run."""
    runs: pd.DataFrame
    """Per run: run_id, optimizer_name, is_recipe_optimizer, image_arch (from config.json)."""
    correlations: pd.DataFrame
    """Per run estimate-quality rank correlations (bench.analysis.correlation)."""
    weights: pd.DataFrame
    """Per WGAN run: clip_value and the fraction of critic weights piled at +-c."""
    gradients: pd.DataFrame | None
    """Per diagnostics setting and seed: gradient-norm decades; None without diagnostics."""

    @property
    def datasets(self) -> list[str]:
        present = set(self.summary["dataset"])
        return [d for d in self.config.datasets if d in present]

    @property
    def optimizer_labels(self) -> list[str]:
        return [o.label for o in self.config.optimizers]

    def recipe_label(self, gan: str) -> str | None:
        """The optimizer label that runs ``gan`` with its paper recipe's optimizer (the first
        in suite order), else the first label of the same algorithm, else None."""
        runs = self.runs[self.runs["gan"] == gan]
        for exact in (True, False):
            chosen = runs[runs["is_recipe_optimizer"]] if exact else runs[
                runs["optimizer_name"] == runs["recipe_optimizer"]]
            labels = [label for label in self.optimizer_labels
                      if label in set(chosen["optimizer"])]
            if labels:
                return labels[0]
        return None

    def cell(self, dataset: str, gan: str, optimizer: str) -> pd.DataFrame:
        """Summary rows of one dataset x GAN x optimizer cell."""
        s = self.summary
        return s[(s["dataset"] == dataset) & (s["gan"] == gan) & (s["optimizer"] == optimizer)]

    def quality(self, dataset: str) -> str | None:
        """The quality metric the runs of ``dataset`` record (bench.analysis.correlation)."""
        names = self.metrics.loc[self.metrics["dataset"] == dataset, "metric"].unique()
        return quality_metric(names)


def _run_record(run_dir: Path) -> dict:
    config = json.loads((run_dir / "config.json").read_text())
    optimizer, recipe = config["optimizer"], config["recipe"]
    same_betas = optimizer["name"] != "adam" or list(optimizer["betas"]) == list(
        recipe["betas"])
    return {
        "run_id": config["run_id"],
        "gan": config["gan"],
        "optimizer": config["optimizer_label"],
        "optimizer_name": optimizer["name"],
        "recipe_optimizer": recipe["optimizer"],
        "is_recipe_optimizer": optimizer["name"] == recipe["optimizer"]
        and np.isclose(optimizer["lr"], recipe["lr"]) and same_betas,
        "image_arch": config.get("image_model", {}).get("arch")
        if get_dataset(config["dataset"]).domain == IMAGE else None,
    }


def _weights(root: Path, config: SuiteConfig, summary: pd.DataFrame) -> pd.DataFrame:
    records = []
    for run in summary[summary["gan"].isin(CONSTRAINED_GANS)].itertuples(index=False):
        # the gradient-penalty critic is measured against the clipping bound of the suite
        c = config.recipe("wgan-clip", run.dataset).clip_value
        weights = load_critic_weights(root / "runs" / run.run_id)
        fraction = np.nan if weights is None or run.status != "finished" else piled_fraction(
            weights, c, config.claims.pile_tolerance)
        records.append({"run_id": run.run_id, "dataset": run.dataset, "gan": run.gan,
                        "optimizer": run.optimizer, "seed": run.seed, "clip_value": c,
                        "piled_fraction": fraction})
    return pd.DataFrame.from_records(
        records, columns=[*IDENTITY, "clip_value", "piled_fraction"])


def load_suite_data(
    root: Path, config: SuiteConfig, summary: pd.DataFrame, metrics: pd.DataFrame
) -> SuiteData:
    """Collect the claims' inputs from the results folder ``root``."""
    root = Path(root)
    runs = pd.DataFrame.from_records(
        [_run_record(root / "runs" / run_id) for run_id in summary["run_id"]])
    gradient_csv = root / DIAGNOSTICS_DIR / GRADIENT_FILE
    spec = config.claims
    return SuiteData(
        root=root,
        config=config,
        summary=summary,
        metrics=metrics,
        runs=runs,
        correlations=run_correlations(metrics, summary, spec.median_window,
                                      spec.min_checkpoints),
        weights=_weights(root, config, summary),
        gradients=gradient_summary(pd.read_csv(gradient_csv)) if gradient_csv.is_file()
        else None,
    )
