"""Everything the claims need from one results folder, loaded once."""

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.correlation import quality_metric, run_correlations
from bench.analysis.weight_piling import load_critic_weights, piled_fraction
from bench.config.suite_config import SuiteConfig
from bench.core.hyperparameters import settings_used_by
from bench.core.results import FINISHED, IDENTITY
from bench.storage.critic_outputs import DIAGNOSTICS_DIR, GRADIENT_FILE, gradient_summary
from bench.storage.experiment_outputs import (
    ARCHITECTURE_RUNS_FILE,
    EXPERIMENTS_DIR,
    GAUSSIANS_GRADIENTS_FILE,
    LINES_ESTIMATES_FILE,
    LINES_THETA_FILE,
    architecture_outcomes,
    estimate_errors,
    final_theta,
    log_gradients,
)

CONSTRAINED_GANS = ("wgan-clip", "wgan-gp")  # the critics whose weights are compared


@dataclass(frozen=True)
class Setting:
    """A dataset and the architecture trained on it: the unit claims compare GANs within."""

    dataset: str
    arch: str
    label: str
    """The dataset's name, plus ' / <arch>' where the suite trains several architectures."""


@dataclass
class SuiteData:
    root: Path
    config: SuiteConfig
    summary: pd.DataFrame
    """One row per run (bench.report.summary.build_summary)."""
    metrics: pd.DataFrame
    """Tidy checkpoint rows of every run."""
    runs: pd.DataFrame
    """Per run: run_id, gan, optimizer, optimizer_name, recipe_optimizer, is_recipe_optimizer
    (from config.json)."""
    correlations: pd.DataFrame
    """Per run estimate-quality rank correlations (bench.analysis.correlation)."""
    weights: pd.DataFrame
    """Per WGAN run: clip_value and the fraction of critic weights piled at +-c."""
    gradients: pd.DataFrame | None
    """Per diagnostics setting and seed: gradient-norm decades; None without diagnostics."""
    lines_estimates: pd.DataFrame | None = None
    """Parallel lines, per GAN and seed: the estimate's largest distance from the exact
    divergence over the theta grid (bench.storage.experiment_outputs.estimate_errors); None without
    the experiment."""
    lines_theta: pd.DataFrame | None = None
    """Parallel lines, per GAN, generator loss, seed and theta_0: final |theta| and the
    fraction of |theta_0| left; None without the experiment."""
    gaussian_gradients: pd.DataFrame | None = None
    """Two Gaussians, per GAN and seed: log10 relative gradient at the fakes; None without the
    experiment."""
    random_architectures: pd.DataFrame | None = None
    """Random architectures, per architecture and GAN: status, final measures and success
    (bench.storage.experiment_outputs.architecture_outcomes at the section's ``success_hq``); None
    without the experiment."""

    @property
    def datasets(self) -> list[str]:
        present = set(self.summary["dataset"])
        return [d for d in self.config.datasets if d in present]

    @property
    def settings(self) -> list[Setting]:
        """Every (dataset, architecture) with runs, in suite order."""
        present = set(zip(self.summary["dataset"], self.summary["arch"], strict=True))
        settings = []
        for dataset in self.datasets:
            archs = [a for a in self.config.archs(dataset) if (dataset, a) in present]
            settings += [Setting(dataset, a, dataset if len(archs) == 1 else f"{dataset} / {a}")
                         for a in archs]
        return settings

    @property
    def optimizer_labels(self) -> list[str]:
        """The runs' optimizer labels in suite order (a ``recipe`` entry has one per
        optimizer its GANs' recipes name)."""
        return self.config.run_labels()

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

    @staticmethod
    def select(frame: pd.DataFrame, setting: Setting, gan: str, optimizer: str) -> pd.DataFrame:
        """The rows of ``frame`` (with the cell columns) of one setting x GAN x optimizer."""
        return frame[(frame["dataset"] == setting.dataset) & (frame["arch"] == setting.arch)
                     & (frame["gan"] == gan) & (frame["optimizer"] == optimizer)]

    def cell(self, setting: Setting, gan: str, optimizer: str) -> pd.DataFrame:
        """Summary rows of one setting x GAN x optimizer cell."""
        return self.select(self.summary, setting, gan, optimizer)

    def quality(self, dataset: str) -> str | None:
        """The quality metric the runs of ``dataset`` record (bench.analysis.correlation)."""
        names = self.metrics.loc[self.metrics["dataset"] == dataset, "metric"].unique()
        return quality_metric(names)


def _same_setting(run: object, recipe: object) -> bool:
    """Whether a run's optimizer setting is its recipe's, a rate equal up to rounding counting
    as the recipe's."""
    if isinstance(run, float) and isinstance(recipe, float):
        return bool(np.isclose(run, recipe))
    return run == recipe


def _run_record(run_dir: Path) -> dict:
    config = json.loads((run_dir / "config.json").read_text())
    optimizer, recipe = config["optimizer"], config["recipe"]
    return {
        "run_id": config["run_id"],
        "gan": config["gan"],
        "optimizer": config["optimizer_label"],
        "optimizer_name": optimizer["name"],
        "recipe_optimizer": recipe["optimizer"],
        # the recipe's algorithm with every setting it is built with as the recipe gives it
        "is_recipe_optimizer": optimizer["name"] == recipe["optimizer"] and all(
            _same_setting(optimizer.get(key), recipe.get(key))
            for key in settings_used_by(optimizer["name"])),
    }


def _weights(root: Path, config: SuiteConfig, summary: pd.DataFrame) -> pd.DataFrame:
    records = []
    for run in summary[summary["gan"].isin(CONSTRAINED_GANS)].itertuples(index=False):
        # the gradient-penalty critic is measured against the clipping bound of the suite
        clip = config.recipe("wgan-clip", run.dataset).clip_value
        weights = load_critic_weights(root / "runs" / run.run_id)
        fraction = np.nan if weights is None or run.status != FINISHED else piled_fraction(
            weights, clip, config.claims.pile_tolerance)
        records.append({**{c: getattr(run, c) for c in IDENTITY}, "clip_value": clip,
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
        lines_estimates=_read(root / EXPERIMENTS_DIR / LINES_ESTIMATES_FILE, estimate_errors),
        lines_theta=_read(root / EXPERIMENTS_DIR / LINES_THETA_FILE, final_theta),
        gaussian_gradients=_read(root / EXPERIMENTS_DIR / GAUSSIANS_GRADIENTS_FILE,
                                 log_gradients),
        random_architectures=None if config.random_architectures is None else _read(
            root / EXPERIMENTS_DIR / ARCHITECTURE_RUNS_FILE,
            partial(architecture_outcomes,
                    success_hq=config.random_architectures.success_hq)),
    )


def _read(path: Path, summarise) -> pd.DataFrame | None:
    """An experiment file's summary, or None where the suite did not run the experiment."""
    return summarise(pd.read_csv(path)) if path.is_file() else None
