"""Figures of the parallel-lines, two-Gaussians and random-architectures experiments, drawn
from their files alone."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from bench.core.results import DIVERGED
from bench.report.plots import save_figure  # the report's figure conventions
from bench.stats import rate_ci
from bench.storage.experiment_outputs import (
    GRADIENT_FLOOR,
    LIPSCHITZ_SCALED,
    estimate_in_units,
    exact_divergence,
)


def parallel_lines_estimates_plot(rows: pd.DataFrame, path: Path) -> Path:
    """Each GAN's divergence estimate vs theta (dots: seeds, line: mean) beside the exact
    value (WGAN paper, Fig. 1); a WGAN critic also divided by its measured Lipschitz constant
    (a clipped critic estimates K * W1)."""
    gans = list(dict.fromkeys(rows["gan"]))
    fig, axes = plt.subplots(1, len(gans), figsize=(3.6 * len(gans), 3.2), squeeze=False)
    fine = np.linspace(-1, 1, 400)  # leaves out 0, where JS jumps: drawn as a point
    for ax, gan in zip(axes[0], gans, strict=True):
        group = rows[rows["gan"] == gan]
        name = group["estimate_name"].iloc[0]
        ax.plot(fine, exact_divergence(name, fine), "k--", lw=1, label=f"exact {name}")
        ax.plot([0], exact_divergence(name, np.zeros(1)), "ko", ms=3)
        series = [("estimate", group["estimate"])]
        if name in LIPSCHITZ_SCALED:
            series.append(("estimate / Lipschitz", estimate_in_units(group)))
        for k, (label, values) in enumerate(series):
            ax.scatter(group["theta"], values, s=8, color=f"C{k}", alpha=0.6)
            mean = values.groupby(group["theta"]).mean()
            ax.plot(mean.index, mean.to_numpy(), "-", color=f"C{k}", label=label)
        ax.set_title(f"{gan} ({name})", fontsize=10)
        ax.set_xlabel("theta")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("estimate of the divergence")
    fig.tight_layout()
    return save_figure(fig, path)


def parallel_lines_theta_plot(rows: pd.DataFrame, tolerance: float, path: Path) -> Path:
    """theta over generator steps (plain SGD), one line per seed and theta_0, per GAN and
    generator loss, with the claims' tolerance band."""
    arms = list(dict.fromkeys(zip(rows["gan"], rows["generator_loss"], strict=True)))
    fig, axes = plt.subplots(1, len(arms), figsize=(3.6 * len(arms), 3.0), squeeze=False,
                             sharey=True)
    for ax, (gan, loss) in zip(axes[0], arms, strict=True):
        group = rows[(rows["gan"] == gan) & (rows["generator_loss"] == loss)]
        for k, (_, run) in enumerate(group.groupby(["start", "seed"])):
            ax.plot(run["step"], run["theta"], lw=0.8, color=f"C{k % 10}")
        ax.axhspan(-tolerance, tolerance, color="0.85", zorder=0, label=f"|theta| < {tolerance:g}")
        ax.set_title(f"{gan} ({loss} loss)", fontsize=10)
        ax.set_xlabel("generator step")
    axes[0][0].set_ylabel("theta")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def two_gaussians_plot(curves: pd.DataFrame, gradients: pd.DataFrame, distance: float,
                       path: Path) -> Path:
    """Each GAN's output over x (one line per seed; real and fake means marked) and the
    gradient magnitude at the fakes, log scale (WGAN paper, Fig. 2)."""
    gans = list(dict.fromkeys(curves["gan"]))
    fig, axes = plt.subplots(1, len(gans) + 1, figsize=(3.4 * (len(gans) + 1), 3.0))
    for ax, gan in zip(axes[:-1], gans, strict=True):
        for _, seed in curves[curves["gan"] == gan].groupby("seed"):
            ax.plot(seed["x"], seed["output"], lw=1)
        for x, label in ((-distance / 2, "real"), (distance / 2, "fake")):
            ax.axvline(x, color="k", ls=":", lw=0.8)
            ax.text(x, ax.get_ylim()[1], label, ha="center", va="bottom", fontsize=8)
        ax.set_title(gan, fontsize=10, pad=14)
        ax.set_xlabel("x")
    axes[0].set_ylabel("output: D(x) or f(x)")
    ax = axes[-1]
    for k, gan in enumerate(gans):
        group = gradients[gradients["gan"] == gan]
        for column, marker in (("grad_at_fakes", "o"), ("steepest", "x")):
            ax.scatter([k] * len(group), group[column].clip(lower=GRADIENT_FLOOR),
                       marker=marker, color=f"C{k}")
    ax.scatter([], [], marker="o", color="0.3", label="at the fakes")
    ax.scatter([], [], marker="x", color="0.3", label="steepest over x")
    ax.set_xticks(range(len(gans)), gans)
    ax.set_yscale("log")
    ax.set_title("|d output / dx|", fontsize=10, pad=14)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def random_architectures_plot(outcomes: pd.DataFrame, success_hq: float, path: Path) -> Path:
    """Left: each GAN's fraction of architectures that succeed, with its Wilson 95% CI
    (WGAN-GP paper, Table 2). Right: each architecture's high-quality fraction per GAN
    (architectures ordered by their median over the GANs; filled where every mode is well
    captured; a diverged run drawn as x above 1), with the success threshold."""
    gans = list(dict.fromkeys(outcomes["gan"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6),
                                      gridspec_kw={"width_ratios": [1, 3]})
    for k, gan in enumerate(gans):
        success = outcomes.loc[outcomes["gan"] == gan, "success"]
        est = rate_ci(int(success.sum()), len(success))
        errors = [[max(0.0, est.mean - est.low)], [max(0.0, est.high - est.mean)]]  # rounding
        left.errorbar([k], [est.mean], yerr=errors, fmt="o", color=f"C{k}", capsize=4)
        left.annotate(f"{int(success.sum())}/{len(success)}", (k, est.mean),
                      textcoords="offset points", xytext=(8, 0), fontsize=8, va="center")
    left.set_xticks(range(len(gans)), gans)
    left.set_xlim(-0.5, len(gans) - 0.5)
    left.set_ylim(0, 1)
    left.set_ylabel("fraction that succeed")
    left.set_title("architectures that succeed", fontsize=10)
    hq = outcomes.pivot(index="architecture", columns="gan", values="hq_fraction")
    order = hq.median(axis=1).sort_values(na_position="last").index
    position = {architecture: i for i, architecture in enumerate(order)}
    for k, gan in enumerate(gans):
        runs = outcomes[outcomes["gan"] == gan]
        x = runs["architecture"].map(position)
        diverged = runs["status"] == DIVERGED
        every_mode = ~diverged & (runs["modes_well_captured"] == runs["modes"])
        right.scatter(x[every_mode], runs.loc[every_mode, "hq_fraction"], s=14,
                      color=f"C{k}", label=gan)
        some = ~diverged & ~every_mode
        right.scatter(x[some], runs.loc[some, "hq_fraction"], s=14, facecolors="none",
                      edgecolors=f"C{k}")
        right.scatter(x[diverged], [1.05] * int(diverged.sum()), marker="x", s=18,
                      color=f"C{k}")
    right.axhline(success_hq, color="k", ls="--", lw=0.8,
                  label=f"success: every mode and >= {success_hq:.0%} high quality")
    right.set_ylim(0, 1.1)
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_xlabel("architecture (ordered by median over the GANs; hollow: modes missed; "
                     "x: diverged)")
    right.set_ylabel("high-quality fraction")
    right.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
