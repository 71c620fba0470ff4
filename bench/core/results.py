"""What a run produces and the tidy row schema the store, report, analysis and gate share.

It imports no training code and no torch, only the specs (torch-free), so everything that
only reads results can use these types without loading the trainer.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bench.core.specs import RECIPE_PHASE

if TYPE_CHECKING:  # annotations only
    import pandas as pd
    from torch import Tensor

    from bench.core.specs import RunSpec

ROW_COLUMNS = ["step", "metric", "value"]
"""The columns of a run's tidy metric rows (``metrics.csv``)."""
CELL = ["dataset", "arch", "gan", "optimizer"]
"""A cell of the suite: the runs that differ only in seed (``arch``: the image architecture,
or ``mlp`` for 2-D data)."""
IDENTITY = ["run_id", *CELL, "seed"]
"""The columns that identify a run in tables of many runs."""
FINISHED, DIVERGED = "finished", "diverged"
"""A run's status: trained to its budget, or stopped at its first non-finite loss."""
FINAL = "final_"
"""Prefix of a summary's final-metric columns: ``final_w1`` is a run's last recorded W1."""
HP = "hp_"
"""Prefix of a summary's searched-field columns: ``hp_lr`` holds the lr a run trained with."""
SETTING = "setting"
"""A derived column naming what a table row or plot panel is about: the dataset, plus its
architecture where the suite trains several on that dataset (``stacked-digits / mlp-g``)."""


def final(metric: str) -> str:
    """The summary column of ``metric``'s final value."""
    return FINAL + metric


def final_metric_columns(frame: "pd.DataFrame") -> list[str]:
    """A summary's final-metric columns (the final step aside)."""
    return [c for c in frame.columns if c.startswith(FINAL) and c != final("step")]


def recipe_runs(summary: "pd.DataFrame") -> "pd.DataFrame":
    """The runs at the paper recipes: what tables, plots, claims and the gate compare (a
    study's trials and reruns have their own analysis)."""
    return summary[summary["phase"] == RECIPE_PHASE].reset_index(drop=True)


def diverged(frame: "pd.DataFrame") -> "pd.Series":
    """Which runs of ``frame`` diverged."""
    return frame["status"] == DIVERGED


def with_settings(frame: "pd.DataFrame") -> "pd.DataFrame":
    """``frame`` (with dataset and arch columns) plus its ``setting`` column."""
    several = frame.groupby("dataset")["arch"].transform("nunique") > 1
    setting = frame["dataset"].where(~several, frame["dataset"] + " / " + frame["arch"])
    return frame.assign(**{SETTING: setting})


@dataclass
class Counters:
    """What a run has consumed; every run records all of them whatever its budget."""

    generator_steps: int = 0
    critic_steps: int = 0
    """Critic updates (an extragradient update's extrapolation is not one)."""
    real_samples: int = 0
    """Real samples the critic's gradient evaluations drew."""
    gradient_evaluations: int = 0
    """Gradients computed, critic and generator, extrapolations included."""
    train_seconds: float = 0.0
    eval_seconds: float = 0.0


@dataclass
class RunResult:
    """What one member run produced; the driver writes it to the results store."""

    spec: "RunSpec"
    rows: list[dict] = field(default_factory=list)
    """Tidy metric rows: {step, metric, value}."""
    status: str = FINISHED
    """``finished`` or ``diverged``."""
    diverged_step: int | None = None
    """Generator step whose iteration first produced a non-finite loss."""
    counters: Counters = field(default_factory=Counters)
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    """Final generated/real samples and the critic on a grid, for plots."""
    state: "dict[str, Tensor]" = field(default_factory=dict)
    """Final generator and critic weights of this member (leading member dim of 1)."""
    images: dict[int, np.ndarray] = field(default_factory=dict)
    """Generator step -> uint8 grid of generated images (image datasets only)."""
    group_size: int = 1
    acceleration: dict = field(default_factory=dict)
    """The speed-ups its group trained with (``AccelPlan.to_dict``)."""
    evaluation: dict = field(default_factory=dict)
    """How it was evaluated: the generator protocol and each metric's protocol name."""
