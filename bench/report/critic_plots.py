"""Figures of the critic diagnostics experiment, drawn from its files alone."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.report.plots import save_figure  # the report's figure conventions
from bench.storage.critic_outputs import GRADIENT_DATASET, NORM_FLOOR, SURFACE_DATASETS


def gradient_norms_plot(rows: pd.DataFrame, path: Path) -> Path:
    """log-scale weight-gradient norm per layer (1 = input) for each constraint, one thin line
    per seed and their geometric mean (the WGAN-GP paper's Fig. 1b, left)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for k, (setting, group) in enumerate(rows.groupby("setting", sort=False)):
        color = f"C{k}"
        norms = group.assign(norm=group["grad_norm"].clip(lower=NORM_FLOOR))
        for _, seed in norms.groupby("seed"):
            ax.plot(seed["layer"], seed["norm"], color=color, lw=0.6, alpha=0.5)
        mean = norms.groupby("layer")["norm"].apply(lambda x: float(np.exp(np.log(x).mean())))
        ax.plot(mean.index, mean.to_numpy(), "o-", color=color, ms=3, label=setting)
    ax.set_yscale("log")
    ax.set_xlabel("critic layer (1 = input)")
    ax.set_ylabel("||dL/dW|| (zero shown at 1e-30)")
    ax.legend(fontsize=8)
    ax.set_title(f"Deep critic on {GRADIENT_DATASET}: gradient norm per layer", fontsize=10)
    return save_figure(fig, path)


def value_surfaces_plot(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """Critic value contours with real samples, datasets as columns and constraints as rows
    (the WGAN-GP paper's Fig. 1a)."""
    settings = sorted({key.split("/")[1] for key in arrays if key.count("/") == 2})
    fig, axes = plt.subplots(len(settings), len(SURFACE_DATASETS),
                             figsize=(3.3 * len(SURFACE_DATASETS), 3.1 * len(settings)),
                             squeeze=False)
    for i, setting in enumerate(settings):
        for j, dataset in enumerate(SURFACE_DATASETS):
            ax = axes[i][j]
            prefix = f"{dataset}/{setting}"
            ax.contourf(arrays[f"{prefix}/x"], arrays[f"{prefix}/y"], arrays[f"{prefix}/values"],
                        levels=20, cmap="viridis")
            ax.scatter(*arrays[f"{dataset}/real"].T, s=1.5, c="white", alpha=0.6)
            ax.set_title(f"{dataset} | {setting}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Critic value surfaces, generator fixed at real data + N(0, 1) noise", y=1.0)
    fig.tight_layout()
    return save_figure(fig, path)
