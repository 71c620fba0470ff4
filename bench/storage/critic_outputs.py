"""What the critic experiment (critic_experiment.py) writes, and how the report reads it.

The experiment's file names, the settings its plots and claims are labelled by, and the
summary of its gradient-norm file. Kept apart from the experiment so the report reads the
files without importing the training code that wrote them.
"""

import numpy as np
import pandas as pd

DIAGNOSTICS_DIR = "diagnostics"
"""The experiment's folder inside a results folder."""
GRADIENT_FILE = "gradient_norms.csv"
SURFACE_FILE = "surfaces.npz"

CLIP_VALUES = (0.1, 0.01, 0.001)
"""The clipping bounds of the paper's Fig. 1b."""
GRADIENT_DATASET = "swissroll"
"""The dataset of the gradient-norm experiment."""
SURFACE_DATASETS = ("ring8", "grid25", "swissroll")
"""The datasets of the value surfaces, in plot order."""

NORM_FLOOR = 1e-30
"""Gradient norms that underflow to 0 count as this (30 decades below 1)."""


def gradient_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per setting and seed, from ``gradient_norms.csv`` rows: ``decades``, the largest
    |log10 norm| over layers (how far any layer's gradient is from norm 1: explosion or
    vanishing), and ``span``, max - min of log10 norm over layers."""
    logs = rows.assign(log=np.log10(rows["grad_norm"].clip(lower=NORM_FLOOR)))
    grouped = logs.groupby(["setting", "clip_value", "seed"], dropna=False)["log"]
    return grouped.agg(
        decades=lambda x: float(np.abs(x).max()), span=lambda x: float(x.max() - x.min())
    ).reset_index()
