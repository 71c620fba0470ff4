"""Figures of the claims report, drawn from the results folder alone."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from bench.analysis.correlation import run_series
from bench.analysis.suite_data import SuiteData
from bench.analysis.weight_piling import load_critic_weights
from bench.core.outputs import ADAM_COSINE, output, with_direction
from bench.core.results import SETTING, final, with_settings
from bench.data import get_dataset
from bench.metrics.declarations import output_range
from bench.report.plots import GAN_ORDER, Drawn, LeftOut, legend_outside, save_figure
from bench.stats import interval_bounds

WEIGHT_GANS = ("wgan-clip", "wgan-gp")


def _recipe_cells(data: SuiteData) -> list[tuple[str, str]]:
    """(gan, optimizer label) of each GAN at its recipe optimizer, in display order."""
    gans = [g for g in GAN_ORDER if g in data.config.gans]
    return [(g, label) for g in gans if (label := data.recipe_label(g)) is not None]


@contextmanager
def _seeded_jitter(seed: int = 0) -> Iterator[None]:
    """seaborn's stripplot jitters its points with numpy's global generator: seeded while it
    draws, so the figure is the same file every time (in any process), and put back after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _grid(rows: int, cols: int, size: tuple[float, float] = (3.4, 3.0)):
    return plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)


NO_RECIPE_CELLS = LeftOut("no GAN ran with its recipe's optimizer")


def _estimate_panels(data: SuiteData, cells: list[tuple[str, str]]):
    """Per panel of the estimate figures, rows settings (datasets and architectures) and
    columns GANs at their recipe optimizer: (row, column, title, the cell's mean rho, its
    quality metric, and per run with a series (colour, seed, series))."""
    window = data.config.claims.median_window
    c = data.correlations
    for i, setting in enumerate(data.settings):
        for j, (gan, label) in enumerate(cells):
            runs = data.cell(setting, gan, label)
            rho = c.loc[c["run_id"].isin(runs["run_id"]), "rho_train"].mean()
            series = []
            for k, run in enumerate(runs.itertuples(index=False)):
                found = run_series(data.metrics[data.metrics["run_id"] == run.run_id], window)
                if found is not None:
                    series.append((f"C{k}", run.seed, found))
            yield (i, j, f"{setting.label} | {gan} ({label})", rho,
                   data.quality(setting.dataset), series)


def estimate_scatter_plot(data: SuiteData, path: Path) -> Drawn:
    """The training estimate against quality, one point per checkpoint and seed."""
    cells = _recipe_cells(data)
    if not cells:
        return NO_RECIPE_CELLS
    fig, axes = _grid(len(data.settings), len(cells))
    for i, j, title, rho, quality, series in _estimate_panels(data, cells):
        ax = axes[i][j]
        for color, seed, points in series:
            ax.plot(points["quality"], points["train"], "o-", ms=3, lw=0.8, color=color,
                    label=f"seed {seed}")
        ax.set_title(f"{title}\nmean rho = {rho:.2f}", fontsize=9)
        ax.set_xlabel(with_direction(quality, quality))
        ax.set_ylabel("-critic loss, median-filtered")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Critic estimate vs sample quality per checkpoint (rho > 0: tracks quality)",
                 y=1.0)
    fig.tight_layout()
    return save_figure(fig, path)


def estimate_curves_plot(data: SuiteData, path: Path) -> Drawn:
    """Quality (solid) and the training estimate (dashed) against the generator step."""
    cells = _recipe_cells(data)
    if not cells:
        return NO_RECIPE_CELLS
    fig, axes = _grid(len(data.settings), len(cells), (3.8, 3.0))
    for i, j, title, _, quality, series in _estimate_panels(data, cells):
        ax = axes[i][j]
        twin = ax.twinx()
        for color, _, points in series:
            ax.plot(points["step"], points["quality"], "-", color=color, lw=1)
            twin.plot(points["step"], points["train"], "--", color=color, lw=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("generator step")
        ax.set_ylabel(f"{quality} (solid)")
        twin.set_ylabel("-critic loss (dashed)")
    fig.suptitle("Sample quality and critic estimate vs generator step, per seed", y=1.0)
    fig.tight_layout()
    return save_figure(fig, path)


def optimizer_plot(summary: pd.DataFrame, table: pd.DataFrame, path: Path) -> Drawn:
    """Final quality per GAN and optimizer: seeds as points, mean with 95% CI; one panel per
    setting (dataset and architecture), diverged runs counted in the panel title."""
    if summary["optimizer"].nunique() < 2:
        return LeftOut("one optimizer: no optimizer comparison")
    if table["quality_metric"].isna().all():
        return LeftOut("no run records a quality metric (W1, FID or fd_digits)")
    settings = list(dict.fromkeys(table[SETTING]))
    summary = with_settings(summary)
    fig, axes = _grid(1, len(settings), (4.2, 3.4))
    for ax, setting in zip(axes[0], settings, strict=True):
        rows = table[table[SETTING] == setting]
        quality = rows["quality_metric"].dropna().iloc[0] if rows["quality_metric"].notna().any() \
            else None
        ax.set_title(f"{setting}: {int(rows['diverged'].sum())} diverged", fontsize=9)
        cells = summary[summary[SETTING] == setting]
        if quality is None or final(quality) not in cells:
            continue
        cells = cells.dropna(subset=[final(quality)])  # diverged runs have no quality
        if cells.empty:
            ax.text(0.5, 0.5, "every run diverged", ha="center", va="center",
                    transform=ax.transAxes, color="crimson")
            continue
        order = [g for g in GAN_ORDER if g in set(cells["gan"])]
        kwargs = {"data": cells, "x": "gan", "y": final(quality), "hue": "optimizer",
                  "order": order, "ax": ax}
        several = cells["optimizer"].nunique() > 1  # seaborn divides the dodge by levels - 1
        with _seeded_jitter():
            sns.stripplot(**kwargs, dodge=several, alpha=0.6, legend=False)
        value_range = output_range(quality, get_dataset(cells["dataset"].iloc[0]))
        sns.pointplot(**kwargs, dodge=0.4 if several else False,
                      errorbar=functools.partial(interval_bounds, value_range=value_range),
                      linestyle="none", markers="D", capsize=0.1)
        ax.set_xlabel("")
        ax.set_ylabel(with_direction(f"final {quality}", quality))
    fig.suptitle("Optimizer comparison: final quality per seed, mean with 95% CI", y=1.02)
    fig.tight_layout()
    return save_figure(fig, path)


def adam_cosine_plot(metrics: pd.DataFrame, path: Path) -> Drawn:
    """The cosine between Adam's critic step and the gradient vs generator step (mean over
    seeds, 95% band); below 0 Adam's momentum goes against the gradient."""
    rows = metrics[metrics["metric"] == ADAM_COSINE]
    if rows.empty:
        return LeftOut("no run trained its critic with Adam")
    order = [g for g in GAN_ORDER if g in set(rows["gan"])]
    grid = sns.relplot(data=with_settings(rows), x="step", y="value", hue="gan",
                       style="optimizer", col=SETTING, kind="line",
                       errorbar=functools.partial(interval_bounds,
                                                  value_range=output(ADAM_COSINE).range),
                       hue_order=order, height=3.2, aspect=1.2,
                       facet_kws={"sharey": True, "legend_out": False})
    legend_outside(grid)
    for ax in grid.axes.flat:
        ax.axhline(0, color="0.4", lw=0.8, ls=":")
    grid.set_axis_labels("generator step", "cos(-Adam step, gradient)")
    grid.figure.suptitle("Critic: cosine between Adam's step and the gradient", y=1.03)
    return save_figure(grid.figure, path)


def critic_weights_plot(data: SuiteData, path: Path) -> Drawn:
    """Histograms of trained critic weights in units of c (lowest seed of each dataset and
    constraint at its recipe optimizer); the dotted lines mark +-c."""
    cells = [(g, label) for g, label in _recipe_cells(data) if g in WEIGHT_GANS]
    w = data.weights
    if not cells or w.empty:
        return LeftOut("no wgan-clip or wgan-gp run at its recipe's optimizer")
    fig, axes = _grid(len(cells), len(data.settings))
    for i, (gan, label) in enumerate(cells):
        for j, setting in enumerate(data.settings):
            ax = axes[i][j]
            runs = data.select(w, setting, gan, label)
            ax.set_title(f"{setting.label} | {gan} ({label})", fontsize=9)
            if runs.empty:
                continue
            run = runs.sort_values("seed").iloc[0]
            weights = load_critic_weights(data.root / "runs" / run["run_id"])
            if weights is None or not np.isfinite(weights).all():
                continue
            c = run["clip_value"]
            ax.hist(weights / c, bins=80, color="tab:blue" if gan == "wgan-clip" else "tab:green")
            for x in (-1, 1):
                ax.axvline(x, color="crimson", lw=0.8, ls=":")
            ax.set_xlabel(f"critic weight / c (c = {c:g}); piled: {run['piled_fraction']:.0%}")
            ax.set_yscale("log")
    fig.suptitle("Critic weights: clipping piles them at +-c (WGAN-GP paper, Fig. 1b right)",
                 y=1.0)
    fig.tight_layout()
    return save_figure(fig, path)
