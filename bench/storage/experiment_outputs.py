"""What the parallel-lines, two-Gaussians and random-architectures experiments write, and how
the report reads it.

File names, the analytic ground truth of Example 1 (computed, never fitted) and the per-run
summaries the claims test. Kept apart from the experiments so the report reads the files
without importing the training code that wrote them.
"""

import math

import numpy as np
import pandas as pd

from bench.core.results import DIVERGED, FINISHED

EXPERIMENTS_DIR = "experiments"
"""The experiments' folder inside a results folder."""
LINES_ESTIMATES_FILE = "parallel_lines_estimates.csv"
LINES_THETA_FILE = "parallel_lines_theta.csv"
GAUSSIANS_CURVES_FILE = "two_gaussians_curves.csv"
GAUSSIANS_GRADIENTS_FILE = "two_gaussians_gradients.csv"
ARCHITECTURES_FILE = "random_architectures.csv"
"""The drawn architectures: one row per architecture, both networks' shapes and its seed."""
ARCHITECTURE_RUNS_FILE = "random_architectures_runs.csv"
"""One row per architecture and GAN: the critic's normalisation, status, and its final
samples' W1 and mode coverage."""

THETA_STARTS = (-1.0, -0.5, 0.5, 1.0)
"""The generator's starting theta_0 in the learning-theta experiment (times the spec's
``theta0``)."""
MINIMAX = "minimax"
"""The learning-theta arm whose generator loss is the minimax game's (the claim's); any other
arm trains the GAN's own loss (an extra)."""
LIPSCHITZ_SCALED = frozenset({"wasserstein"})
"""Estimates that a K-Lipschitz critic makes K times the divergence (WGAN Sec. 3, "K *
W(P_r, P_theta)"): read divided by the critic's measured Lipschitz constant."""
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


def estimate_in_units(rows: pd.DataFrame) -> pd.Series:
    """``parallel_lines_estimates.csv``'s estimates in their divergence's units: divided by
    the critic's measured Lipschitz constant where the estimate is LIPSCHITZ_SCALED."""
    scaled = rows["estimate_name"].isin(LIPSCHITZ_SCALED)
    return rows["estimate"].where(~scaled, rows["estimate"] / rows["lipschitz"])


def estimate_errors(rows: pd.DataFrame) -> pd.DataFrame:
    """Per GAN and seed, from ``parallel_lines_estimates.csv`` rows: ``error``, the largest
    distance over the theta grid between the estimate (``estimate_in_units``) and Example 1's
    exact value, as a share of the exact value's largest on the grid (max |theta| for W1,
    log 2 for JS). Small means the estimate is the paper's curve at every grid point: for W1
    close to |theta| (continuous, and monotone in |theta| when below half the grid's step),
    for JS flat at log 2 off 0 (no information on |theta|). A non-finite estimate counts as
    an infinite error."""
    exact = pd.Series(np.nan, index=rows.index)
    for name, group in rows.groupby("estimate_name"):
        exact[group.index] = exact_divergence(name, group["theta"].to_numpy())
    distance = (estimate_in_units(rows) - exact).abs().fillna(math.inf)
    per = rows.assign(distance=distance, exact=exact).groupby(
        ["gan", "estimate_name", "seed"], as_index=False).agg(
        distance=("distance", "max"), scale=("exact", "max"))
    return per.assign(error=per["distance"] / per["scale"])[
        ["gan", "estimate_name", "seed", "error"]]


def final_theta(rows: pd.DataFrame) -> pd.DataFrame:
    """Per GAN, generator loss, seed and start, from ``parallel_lines_theta.csv`` rows: the
    last step's ``abs_theta`` and ``remaining``, |theta_T| / |theta_0| (1: theta never
    moved)."""
    keys = ["gan", "generator_loss", "seed", "start"]
    last = rows.loc[rows.groupby(keys)["step"].idxmax()]
    return last.assign(abs_theta=last["theta"].abs(),
                       remaining=last["theta"].abs() / last["start"].abs())[
        [*keys, "abs_theta", "remaining"]].reset_index(drop=True)


def log_gradients(rows: pd.DataFrame) -> pd.DataFrame:
    """``two_gaussians_gradients.csv`` rows with ``log10_relative``: log10 of the mean gradient
    magnitude at the fakes over the network's steepest slope (an underflow to 0 counted as
    GRADIENT_FLOOR)."""
    relative = rows["grad_at_fakes"] / rows["steepest"]
    return rows.assign(log10_relative=np.log10(relative.clip(lower=GRADIENT_FLOOR)))


def architecture_outcomes(runs: pd.DataFrame, success_hq: float) -> pd.DataFrame:
    """``random_architectures_runs.csv`` rows with ``success``: the run finished, its final
    samples capture every mode of the dataset well and at least ``success_hq`` of them are
    high quality (the VEEGAN/PacGAN protocol's counts, recorded by the experiment); a
    diverged run fails. Why both: a mode-less blob and a uniform ring with no modes put
    few samples near a mode; a generator with half the modes misses modes
    (tests/test_random_architectures.py feeds them through the experiment's measures)."""
    return runs.assign(success=(runs["status"] == FINISHED)
                       & (runs["modes_well_captured"] == runs["modes"])
                       & (runs["hq_fraction"] >= success_hq))


def _network(draw: pd.Series, network: str) -> str:
    depth, width, activation, normalised = (draw[f"{network}_{key}"] for key in (
        "depth", "width", "activation", "batch_norm"))
    return f"{depth} x {width} {activation}" + (", normalised" if normalised else "")


def _outcome_text(run) -> str:
    if run.status == DIVERGED:
        return "diverged"
    text = f"{run.modes_well_captured:g}/{run.modes:g}, {run.hq_fraction:.0%}, {run.w1:.3g}"
    return f"**{text}**" if run.success else text


def architecture_table(draws: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per drawn architecture (``random_architectures.csv``): both networks in words
    (hidden layers x units, activation) and each GAN's final modes well captured, high-quality
    fraction and W1 from ``architecture_outcomes`` (Markdown bold where it succeeded;
    'diverged' where it diverged)."""
    table = pd.DataFrame({"architecture": draws["architecture"],
                          "generator": draws.apply(_network, axis=1, network="generator"),
                          "critic": draws.apply(_network, axis=1, network="critic")})
    for gan, runs in outcomes.groupby("gan", sort=False):
        text = [_outcome_text(run) for run in runs.itertuples(index=False)]
        table[f"{gan}: modes, HQ, W1"] = table["architecture"].map(
            dict(zip(runs["architecture"], text, strict=True)))
    return table
