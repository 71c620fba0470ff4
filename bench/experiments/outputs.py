"""What the parallel-lines, two-Gaussians and random-architectures experiments write, and how
the report reads it.

File names, the analytic ground truth of Example 1 (computed, never fitted) and the per-run
summaries the claims test. Kept apart from the experiments so the report reads the files
without importing the training code that wrote them.
"""

import math

import numpy as np
import pandas as pd

from bench.results import DIVERGED, FINISHED

EXPERIMENTS_DIR = "experiments"
"""The experiments' folder inside a results folder."""
LINES_ESTIMATES_FILE = "parallel_lines_estimates.csv"
LINES_THETA_FILE = "parallel_lines_theta.csv"
GAUSSIANS_CURVES_FILE = "two_gaussians_curves.csv"
GAUSSIANS_GRADIENTS_FILE = "two_gaussians_gradients.csv"
ARCHITECTURES_FILE = "random_architectures.csv"
"""The drawn architectures: one row per architecture, both networks' shapes and its seed."""
ARCHITECTURE_RUNS_FILE = "random_architectures_runs.csv"
"""One row per architecture and GAN: the critic's normalisation, status and final W1."""

THETA_STARTS = (-1.0, -0.5, 0.5, 1.0)
"""The generator's starting theta_0 in the learning-theta experiment (times the spec's
``theta0``)."""
GRADIENT_FLOOR = 1e-30
"""A gradient magnitude that underflows to 0 counts as this (30 decades below 1)."""


def exact_divergence(estimate_name: str, theta: np.ndarray) -> np.ndarray:
    """Example 1's exact value between P0 and P_theta: W1 = |theta|; JS = log 2 (nats) for
    theta != 0 and 0 at theta = 0, the quantity a GAN discriminator's estimate converges to."""
    theta = np.asarray(theta, dtype=float)
    if estimate_name == "wasserstein":
        return np.abs(theta)
    if estimate_name == "jensen-shannon":
        return np.where(theta == 0, 0.0, math.log(2.0))
    raise ValueError(f"no exact value for estimate {estimate_name!r}")


def final_theta(rows: pd.DataFrame) -> pd.DataFrame:
    """Per GAN, seed and start, from ``parallel_lines_theta.csv`` rows: the last step's
    ``abs_theta`` and ``remaining``, |theta_T| / |theta_0| (1: theta never moved)."""
    last = rows.loc[rows.groupby(["gan", "seed", "start"])["step"].idxmax()]
    return last.assign(abs_theta=last["theta"].abs(),
                       remaining=last["theta"].abs() / last["start"].abs())[
        ["gan", "seed", "start", "abs_theta", "remaining"]].reset_index(drop=True)


def log_gradients(rows: pd.DataFrame) -> pd.DataFrame:
    """``two_gaussians_gradients.csv`` rows with ``log10_relative``: log10 of the mean gradient
    magnitude at the fakes over the network's steepest slope (an underflow to 0 counted as
    GRADIENT_FLOOR)."""
    relative = rows["grad_at_fakes"] / rows["steepest"]
    return rows.assign(log10_relative=np.log10(relative.clip(lower=GRADIENT_FLOOR)))


def architecture_outcomes(runs: pd.DataFrame, success_w1: float) -> pd.DataFrame:
    """``random_architectures_runs.csv`` rows with ``success``: finished with a final W1 of
    at most ``success_w1`` (a diverged run fails)."""
    return runs.assign(success=(runs["status"] == FINISHED) & (runs["w1"] <= success_w1))


def _network(draw: pd.Series, network: str) -> str:
    depth, width, activation, normalised = (draw[f"{network}_{key}"] for key in (
        "depth", "width", "activation", "batch_norm"))
    return f"{depth} x {width} {activation}" + (", normalised" if normalised else "")


def architecture_table(draws: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per drawn architecture (``random_architectures.csv``): both networks in words
    (hidden layers x units, activation) and each GAN's final W1 from ``architecture_outcomes``
    (Markdown bold where it succeeded; 'diverged' where it diverged)."""
    table = pd.DataFrame({"architecture": draws["architecture"],
                          "generator": draws.apply(_network, axis=1, network="generator"),
                          "critic": draws.apply(_network, axis=1, network="critic")})
    for gan, runs in outcomes.groupby("gan", sort=False):
        text = ["diverged" if status == DIVERGED else f"**{w1:.3g}**" if success else f"{w1:.3g}"
                for status, w1, success in runs[["status", "w1", "success"]].itertuples(
                    index=False)]
        table[f"W1, {gan}"] = table["architecture"].map(
            dict(zip(runs["architecture"], text, strict=True)))
    return table
