"""The results store: one folder per run, written atomically, append-only.

Layout of a suite folder::

    suite.yaml                 the resolved suite (what ran)
    runs/<run_id>/config.json  the RunSpec
    runs/<run_id>/provenance.json
    runs/<run_id>/metrics.csv  tidy rows: step, metric, value
    runs/<run_id>/status.json  finished | diverged, counters, timings
    runs/<run_id>/samples.npz  final samples and critic grid (plots)
    runs/<run_id>/models.pt    final weights (torch.load(weights_only=True))
    runs/<run_id>/images/      image runs: a grid of generated samples per checkpoint

A run folder is assembled under a temporary name and renamed into place, so a folder under
``runs/`` is always complete; an interrupted suite loses only the runs in flight.
"""

import json
import os
import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
import yaml
from PIL import Image

from bench.atomic import write_text_atomic
from bench.errors import BenchError
from bench.results import HP, IDENTITY, ROW_COLUMNS, RunResult
from bench.suite import SuiteConfig, parse_suite, read_yaml

if TYPE_CHECKING:
    from bench.specs import RunSpec

RUNS = "runs"
SUITE_FILE = "suite.yaml"


def _study_columns(study: dict) -> dict:
    """A run's place in a hyperparameter study: ``phase``, ``trial`` (-1 for recipe runs) and
    ``hp_<field>`` for each searched field its GAN and optimizer use."""
    trial = -1 if study["trial"] is None else study["trial"]
    return {"phase": study["phase"], "trial": trial,
            **{HP + name: value for name, value in study["params"].items()}}


def _differences(stored: dict, now: dict, prefix: str = "") -> list[str]:
    """``field: stored vs now`` for each leaf of ``now`` whose stored value differs."""
    out = []
    for key, value in now.items():
        if key not in stored:
            continue
        if isinstance(value, dict) and isinstance(stored[key], dict):
            out += _differences(stored[key], value, f"{prefix}{key}.")
        elif stored[key] != value:
            out.append(f"{prefix}{key}: {stored[key]} vs {value}")
    return out


def check_results_folder(root: Path) -> None:
    """``root`` can hold a results folder: absent, or a folder (not a file)."""
    if root.exists() and not root.is_dir():
        raise BenchError(f"--out {root} is a file, not a folder; give a new folder (or a "
                         "results folder to resume)")


class ResultsStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS

    # --- suite -----------------------------------------------------------------------

    def init_suite(self, config: SuiteConfig) -> None:
        """Record the suite; refuse a folder that holds a different suite."""
        path = self.root / SUITE_FILE
        if path.exists():
            existing = self.load_suite()
            if existing != config:
                raise BenchError(
                    f"{self.root} already holds results of a different suite configuration; "
                    "use another --out folder"
                )
            return
        write_text_atomic(path, yaml.safe_dump(config.to_dict(), sort_keys=False))

    def extend_suite(self, config: SuiteConfig) -> None:
        """Record ``config`` over the stored suite; it may only add seeds to cells (a round of
        ``run --until-decided``)."""
        stored = self.load_suite()
        grown = all(set(seeds) <= set(config.seeds_of(cell))
                    for cell, seeds in stored.added_seeds)
        if replace(stored, added_seeds=config.added_seeds) != config or not grown:
            raise BenchError(f"{self.root}: only seeds can be added to a stored suite")
        write_text_atomic(self.root / SUITE_FILE,
                          yaml.safe_dump(config.to_dict(), sort_keys=False))

    def load_suite(self) -> SuiteConfig:
        path = self.root / SUITE_FILE
        if not path.is_file():
            raise BenchError(
                f"{self.root} is not a results folder (no {SUITE_FILE}); "
                "pass the folder that 'run' wrote"
            )
        return parse_suite(read_yaml(path.read_text(), str(path)), str(path))

    # --- runs ------------------------------------------------------------------------

    def finished_run_ids(self) -> set[str]:
        return {p.name for p in self.run_dirs()}

    def check_finished_runs_match(self, specs: "list[RunSpec]") -> None:
        """Refuse to continue when a finished run's stored config differs from the RunSpec the
        suite now gives it (its suite.yaml edited after it trained): skipping it by its id
        would mix settings silently. Fields the stored config predates are not compared."""
        for spec in specs:
            path = self.runs_dir / spec.run_id / "config.json"
            if not path.is_file():
                continue
            stored = json.loads(path.read_text())
            differ = _differences(stored, json.loads(json.dumps(spec.to_dict())))
            if differ:
                raise BenchError(
                    f"{self.root}: finished run {spec.run_id} trained with other settings than "
                    f"suite.yaml now gives it ({'; '.join(differ[:3])}); restore suite.yaml's "
                    "training settings (only claims:, gates: and description: are safe to "
                    "edit), or run the edited suite into a new --out folder")

    def discard_partial_runs(self) -> None:
        """Remove run folders a killed writer left under their temporary names."""
        if self.runs_dir.is_dir():
            for path in self.runs_dir.glob(".*"):
                shutil.rmtree(path, ignore_errors=True)

    def write_run(self, result: RunResult, provenance: dict) -> Path:
        """Write one run's folder atomically; returns its path."""
        run_id = result.spec.run_id
        final = self.runs_dir / run_id
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.runs_dir, prefix=f".{run_id}."))
        try:
            config = {**result.spec.to_dict(), "evaluation": result.evaluation}
            (tmp / "config.json").write_text(json.dumps(config, indent=2))
            run_provenance = {**provenance, "seed": result.spec.seed,
                              "group_size": result.group_size,
                              "acceleration": result.acceleration}
            (tmp / "provenance.json").write_text(json.dumps(run_provenance, indent=2))
            rows = pd.DataFrame(result.rows, columns=ROW_COLUMNS)
            rows.to_csv(tmp / "metrics.csv", index=False)
            if result.samples:
                np.savez_compressed(tmp / "samples.npz", **result.samples)
            if result.state:
                torch.save(result.state, tmp / "models.pt")
            if result.images:
                (tmp / "images").mkdir()
                for step, grid in sorted(result.images.items()):
                    Image.fromarray(grid.squeeze(-1) if grid.shape[-1] == 1 else grid).save(
                        tmp / "images" / f"step_{step:07d}.png"
                    )
            status = {
                "status": result.status,
                "diverged_step": result.diverged_step,
                "counters": asdict(result.counters),
            }
            (tmp / "status.json").write_text(json.dumps(status, indent=2))
            os.replace(tmp, final)  # fails rather than overwrite a finished run
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    # --- reading -----------------------------------------------------------------------

    def run_dirs(self) -> list[Path]:
        """Finished runs' folders (a temporary ``.name`` one is never a finished run, even
        complete: its writer died before renaming it)."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir()
                      if not p.name.startswith(".") and (p / "status.json").is_file())

    def load_runs(self) -> pd.DataFrame:
        """One row per run: its identity, status and counters."""
        records = []
        for path in self.run_dirs():
            config = json.loads((path / "config.json").read_text())
            status = json.loads((path / "status.json").read_text())
            records.append(
                {
                    "run_id": config["run_id"],
                    "dataset": config["dataset"],
                    "arch": config["arch"],
                    "gan": config["gan"],
                    "optimizer": config["optimizer_label"],
                    "seed": config["seed"],
                    "status": status["status"],
                    "diverged_step": status["diverged_step"],
                    **status["counters"],
                    **_study_columns(config["study"]),
                }
            )
        return pd.DataFrame.from_records(records)

    def load_metrics(self) -> pd.DataFrame:
        """All tidy metric rows of all runs, with the run's identity columns."""
        runs = self.load_runs()
        frames = []
        for path, run in zip(self.run_dirs(), runs.itertuples(index=False), strict=True):
            # typed: a run that recorded no row must not turn every value into an object
            rows = pd.read_csv(path / "metrics.csv",
                               dtype={"step": int, "metric": str, "value": float})
            for column in IDENTITY:
                rows[column] = getattr(run, column)
            frames.append(rows)
        if not frames:
            return pd.DataFrame(columns=ROW_COLUMNS + IDENTITY)
        return pd.concat(frames, ignore_index=True)

    def load_samples(self, run_id: str) -> dict[str, np.ndarray] | None:
        path = self.runs_dir / run_id / "samples.npz"
        if not path.is_file():
            return None
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
