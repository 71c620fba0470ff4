"""TensorBoard export of a results folder: each run's metric curves, sample grids and
hyperparameters, so runs and hyperparameter studies can be browsed in TensorBoard's Scalars,
Images and HParams dashboards.

A pure function of the store, like the rest of bench/report. ``tensorboard`` is an optional
extra (``pip install -e ".[tensorboard]"``), imported only when exporting.

Layout: ``log_dir/<run_id>/`` holds one run's event files; ``log_dir/ganbench_export.json``
names the results folder the export came from. Exporting again replaces each run's folder, so
a second export holds the same events as the first; a folder that holds anything else (files
not written by an export, or the export of another results folder, whose run ids could
collide) is refused.
"""

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PIL import Image

from bench.core.atomic import write_text_atomic
from bench.core.errors import BenchError
from bench.core.hyperparameters import HYPERPARAMETERS
from bench.core.outputs import hparams_outcomes, tensorboard_group
from bench.core.results import final
from bench.report.summary import build_summary
from bench.storage.store import ResultsStore

if TYPE_CHECKING:  # annotations only: tensorboard is an optional extra
    from torch.utils.tensorboard import SummaryWriter

EXPORT_MARKER = "ganbench_export.json"
"""Written at the top of an export; names the results folder it was exported from."""

Scalar = int | float | str | bool
"""The value types TensorBoard's HParams accept."""


def scalar_tag(metric: str) -> str:
    """The Scalars tag of ``metric``: its declared group (bench.core.outputs), e.g.
    ``quality/w1``, or ``metrics/<name>`` for an output that declares none."""
    return f"{tensorboard_group(metric)}/{metric}"


def _hyperparameters(config: dict) -> dict[str, Scalar | None]:
    """Every hyperparameter a run holds (``bench.core.hyperparameters``: each optimizer
    setting, then the recipe's own), from its ``config.json``; a network's own setting it
    lacks is the shared one it replaces (TTUR: ``lr_critic`` is ``lr`` unless set)."""
    values = {name: h.read(config) for name, h in HYPERPARAMETERS.items()}
    for name, h in HYPERPARAMETERS.items():
        if values[name] is None and h.network is not None:
            values[name] = values[h.option]
    return values


def run_hparams(config: dict, status: str) -> dict[str, Scalar]:
    """A run's hyperparameters from its ``config.json``, plus its status (``finished`` or
    ``diverged``), so the HParams dashboard can filter diverged trials; a value an older
    folder lacks is left out."""
    study = config.get("study") or {}  # only runs of a hyperparameter study have one
    hparams = {
        "dataset": config["dataset"],
        "arch": config.get("arch"),  # folders written before the architecture axis lack it
        "gan": config["gan"],
        "optimizer": config["optimizer_label"],
        "optimizer_name": config["optimizer"]["name"],
        **_hyperparameters(config),
        "seed": config["seed"],
        "status": status,
        "study.phase": study.get("phase"),
        "study.trial": study.get("trial"),  # null outside the trial phase
    }
    return {name: value for name, value in hparams.items() if value is not None}


def final_outcomes(summary_row: pd.Series) -> dict[str, float]:
    """``final/<metric>`` -> the run's value at its last checkpoint, for the outputs declared
    HParams outcomes it has; empty values (metrics of diverged runs, see build_summary) are
    left out."""
    return {f"final/{metric}": float(summary_row[final(metric)]) for metric in hparams_outcomes()
            if pd.notna(summary_row.get(final(metric)))}


def _summary_writer_class() -> "type[SummaryWriter]":
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise BenchError('the TensorBoard export needs the tensorboard package: '
                         'pip install -e ".[tensorboard]"') from None
    return SummaryWriter


def check_tensorboard(root: Path, log_dir: Path) -> None:
    """Refuse an export that would fail, writing nothing: no tensorboard package, or a
    ``log_dir`` that is neither new, empty, nor this results folder's earlier export (a
    ``run --tensorboard`` checks this before training)."""
    _summary_writer_class()
    marker = log_dir / EXPORT_MARKER
    if marker.is_file():
        exported = json.loads(marker.read_text())["results"]
        if exported != str(Path(root).resolve()):
            raise BenchError(f"{log_dir} holds the TensorBoard export of {exported}; "
                             f"pass another folder to export {root} to")
    elif log_dir.exists() and (not log_dir.is_dir() or any(log_dir.iterdir())):
        raise BenchError(f"{log_dir} exists and is not a TensorBoard export of a results "
                         "folder; pass a new or empty folder")


def _claim_log_dir(root: Path, log_dir: Path) -> None:
    """Make ``log_dir`` this results folder's export, or refuse a folder that is not."""
    check_tensorboard(root, log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(log_dir / EXPORT_MARKER,
                      json.dumps({"results": str(root.resolve())}, indent=2))


def _sample_grids(run_dir: Path) -> list[tuple[int, Path]]:
    """(generator step, PNG) of each checkpoint's image grid, by step (image runs only)."""
    return [(int(path.stem.removeprefix("step_")), path)
            for path in sorted((run_dir / "images").glob("step_*.png"))]


def _write_run(writer: "SummaryWriter", run_dir: Path, rows: pd.DataFrame,
               summary_row: pd.Series) -> None:
    # an empty value is a metric undefined at that checkpoint (e.g. reverse_kl_hq without
    # high-quality samples): no point, rather than a NaN that breaks the chart's scale
    for row in rows.dropna(subset=["value"]).itertuples(index=False):
        writer.add_scalar(scalar_tag(row.metric), float(row.value), int(row.step))
    for step, path in _sample_grids(run_dir):
        with Image.open(path) as image:
            grid = np.asarray(image.convert("RGB"))  # digits grids are stored grayscale
        writer.add_image("samples", grid, step, dataformats="HWC")
    config = json.loads((run_dir / "config.json").read_text())
    # run_name "." keeps the hparams in the run's own folder (not a timestamped subfolder)
    writer.add_hparams(run_hparams(config, summary_row["status"]), final_outcomes(summary_row),
                       run_name=".", global_step=int(summary_row[final("step")]))


def write_tensorboard(root: Path, log_dir: Path) -> Path:
    """Export the results folder ``root`` to TensorBoard event files under ``log_dir`` (one
    folder per run); returns ``log_dir``. ``tensorboard --logdir <log_dir>`` shows them."""
    root, log_dir = Path(root), Path(log_dir)
    writer_class = _summary_writer_class()
    store = ResultsStore(root)
    store.load_suite()  # a clear error for a folder that holds no results
    _claim_log_dir(root, log_dir)
    metrics = store.load_metrics()
    for _, summary_row in build_summary(store).iterrows():
        run_id = summary_row["run_id"]
        out = log_dir / run_id
        shutil.rmtree(out, ignore_errors=True)  # a previous export's events, replaced
        with writer_class(log_dir=str(out)) as writer:
            _write_run(writer, store.runs_dir / run_id, metrics[metrics["run_id"] == run_id],
                       summary_row)
    return log_dir
