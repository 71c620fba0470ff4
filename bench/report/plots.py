"""Seaborn figures built from the store alone (no model is needed to redraw them).

A figure function returns the path it drew, or ``LeftOut`` with one sentence saying why the
figure does not apply to this suite; report.md prints that sentence in place of the figure.
"""

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bench.core.outputs import TRAIN_SECONDS, final_figure_outputs, plot_label  # noqa: E402
from bench.core.results import CELL, DIVERGED, FINAL, SETTING, final, with_settings  # noqa: E402
from bench.data import get_dataset  # noqa: E402
from bench.metrics.declarations import output_range  # noqa: E402
from bench.stats import Range, interval_bounds  # noqa: E402
from bench.storage.store import ResultsStore  # noqa: E402

GAN_ORDER = ["gan", "wgan-clip", "wgan-gp"]


@dataclass(frozen=True)
class LeftOut:
    """A figure that does not apply to a suite's data."""

    reason: str
    """One sentence for report.md, e.g. 'one optimizer: no optimizer comparison'."""


Drawn = Path | LeftOut
"""What a figure function returns: the file it wrote, or why it wrote none."""


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` with the report's resolution and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def legend_outside(grid: sns.FacetGrid) -> None:
    """Move a grid's legend (drawn with ``facet_kws={"legend_out": False}``) to the right of
    the figure, where ``save_figure``'s tight bounding box takes it in. seaborn's own
    outside legend renders the whole figure twice to measure it, which made these figures
    the slowest part of a report."""
    sns.move_legend(grid, "center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


class RangedErrorbar:
    """seaborn's ``errorbar``: the tables' interval of a group's values, inside the range of
    its rows. seaborn passes each group's values as a Series keeping the plotted frame's
    index, which looks up the group's range (every row of a group has the same one)."""

    def __init__(self, ranges: pd.Series) -> None:
        self.ranges = ranges

    def __call__(self, values: pd.Series) -> tuple[float, float]:
        return interval_bounds(values, self.ranges[values.index[0]])


def ranged(frame: pd.DataFrame, metric: pd.Series) -> tuple[pd.DataFrame, RangedErrorbar]:
    """``frame`` with a fresh index and the errorbar of its values, ``metric`` naming each
    row's registered output (its range on the row's dataset)."""
    frame = frame.reset_index(drop=True)
    keys = list(zip(metric, frame["dataset"], strict=True))
    found: dict[tuple[str, str], Range] = {
        key: output_range(key[0], get_dataset(key[1])) for key in set(keys)}
    return frame, RangedErrorbar(pd.Series([found[k] for k in keys], index=frame.index))


def _hue_order(frame: pd.DataFrame) -> list[str]:
    present = list(frame["gan"].unique())
    return [g for g in GAN_ORDER if g in present] + sorted(set(present) - set(GAN_ORDER))


def metric_curves(metrics: pd.DataFrame, metric: str, x: str, path: Path) -> Drawn:
    """``metric`` against generator step (x='step') or training seconds (x='train_seconds'),
    mean over seeds with its 95% CI band (bench.stats); one panel per dataset (and
    architecture, where there are several)."""
    rows = metrics[metrics["metric"] == metric]
    if rows.empty:
        return LeftOut(f"no run of this suite records {metric}")
    if x == TRAIN_SECONDS:
        # x of each checkpoint: the cell's mean training time at that step, so seeds align
        seconds = metrics[metrics["metric"] == TRAIN_SECONDS]
        cell_time = seconds.groupby([*CELL, "step"])["value"].mean()
        rows = rows.join(cell_time.rename(TRAIN_SECONDS), on=[*CELL, "step"])
    rows, errorbar = ranged(with_settings(rows), rows["metric"])
    grid = sns.relplot(
        data=rows, x=x, y="value", hue="gan", style="optimizer", col=SETTING,
        kind="line", errorbar=errorbar, hue_order=_hue_order(rows), markers=True,
        dashes=True, height=3.6, aspect=1.2,
        facet_kws={"sharey": False, "sharex": x == "step", "legend_out": False},
    )
    legend_outside(grid)
    grid.set_axis_labels("generator step" if x == "step" else "training wall-clock (s)",
                         plot_label(metric))
    grid.figure.suptitle(f"{plot_label(metric)}: mean over seeds, 95% CI", y=1.03)
    return save_figure(grid.figure, path)


def final_metrics_plot(summary: pd.DataFrame, path: Path) -> Drawn:
    """The final values of the outputs declared for this figure (W1, modes captured, the
    high-quality fraction) per GAN and optimizer, mean with its 95% CI."""
    shown = final_figure_outputs()
    columns = [c for c in (final(o.name) for o in shown)
               if c in summary and summary[c].notna().any()]
    if not columns:
        return LeftOut("no finished run records " + ", ".join(o.words for o in shown))
    long = with_settings(summary).melt(
        id_vars=[*CELL, SETTING, "seed"], value_vars=columns,
        var_name="metric", value_name="value",
    ).dropna(subset=["value"])
    long["metric"] = long["metric"].str.removeprefix(FINAL)
    long, errorbar = ranged(long, long["metric"])
    long["metric"] = long["metric"].map(plot_label)
    grid = sns.catplot(
        data=long, x="gan", y="value", hue="optimizer", row="metric", col=SETTING,
        kind="point", errorbar=errorbar, order=_hue_order(long),
        dodge=0.3 if long["optimizer"].nunique() > 1 else False,  # seaborn fails on one hue
        sharey=False, height=2.8, aspect=1.3, linestyle="none", capsize=0.15,
        legend_out=False,
    )
    legend_outside(grid)
    grid.set_titles("{row_name} | {col_name}")
    grid.set_axis_labels("", "")
    grid.figure.suptitle("Final metrics: mean over seeds, 95% CI (diverged runs excluded)",
                         y=1.02)
    return save_figure(grid.figure, path)


def _cell_panels(summary: pd.DataFrame, dataset: str, size: tuple[float, float]):
    """A figure with a panel per architecture and optimizer (rows) x GAN (columns) of
    ``dataset``, and per panel (axes, title, run id of its lowest seed or None where the cell
    has no run)."""
    cells = summary[summary["dataset"] == dataset].sort_values("seed")
    cells = cells.groupby(["arch", "optimizer", "gan"], sort=True).head(1)
    rows = sorted(set(zip(cells["arch"], cells["optimizer"], strict=True)))
    several = len({arch for arch, _ in rows}) > 1
    gans = _hue_order(cells)
    fig, axes = plt.subplots(
        len(rows), len(gans), figsize=(size[0] * len(gans), size[1] * len(rows)),
        squeeze=False,
    )
    panels = []
    for i, (arch, optimizer) in enumerate(rows):
        for j, gan in enumerate(gans):
            match = cells[(cells["arch"] == arch) & (cells["optimizer"] == optimizer)
                          & (cells["gan"] == gan)]
            run_id = match["run_id"].iloc[0] if len(match) else None
            title = f"{gan} / {optimizer}" + (f" / {arch}" if several else "")
            panels.append((axes[i][j], title, run_id))
    return fig, axes, panels


def samples_plot(store: ResultsStore, summary: pd.DataFrame, dataset: str, path: Path) -> Path:
    """Real (grey) vs generated (orange) samples over the critic's contour, lowest seed of
    each GAN x optimizer."""
    fig, axes, panels = _cell_panels(summary, dataset, (3.4, 3.3))
    for ax, title, run_id in panels:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
        data = store.load_samples(run_id) if run_id else None
        if data is None:
            ax.text(0.5, 0.5, DIVERGED if run_id else "no run", ha="center",
                    va="center", transform=ax.transAxes, color="crimson")
            continue
        critic = data["critic"]
        if np.isfinite(critic).all():
            ax.contourf(data["grid_x"], data["grid_y"], critic, levels=20, cmap="viridis",
                        alpha=0.55)
        ax.scatter(*data["real"].T, s=2, c="0.35", alpha=0.5, label="real")
        ax.scatter(*data["fake"].T, s=2, c="tab:orange", alpha=0.6, label="generated")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0][0].legend(loc="lower left", fontsize=7, markerscale=4)
    fig.suptitle(f"{dataset}: generated vs real samples, critic value as contour", y=1.0)
    fig.tight_layout()
    return save_figure(fig, path)


def image_grids_plot(
    store: ResultsStore, summary: pd.DataFrame, dataset: str, path: Path
) -> Path:
    """The last checkpoint's sample grid of the lowest seed of each GAN x optimizer (x
    architecture)."""
    fig, _, panels = _cell_panels(summary, dataset, (3.2, 3.4))
    for ax, title, run_id in panels:
        ax.set_axis_off()
        grids = sorted((store.runs_dir / run_id / "images").glob("*.png")) if run_id else []
        if not grids:
            ax.text(0.5, 0.5, "no images", ha="center", va="center", transform=ax.transAxes)
            continue
        step = int(grids[-1].stem.removeprefix("step_"))
        ax.imshow(plt.imread(grids[-1]), cmap="gray", interpolation="nearest")
        ax.set_title(f"{title} (step {step})", fontsize=9)
    fig.suptitle(f"{dataset}: generated samples at the last checkpoint", y=1.0)
    fig.tight_layout()
    return save_figure(fig, path)
