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
    runs/<run_id>/manifest.json  each file's SHA-256 and size, metrics' rows and last step

A run folder is assembled under a temporary name, sealed with its manifest and renamed into
place, so a folder under ``runs/`` is always complete; an interrupted suite loses only the
runs in flight. Readers ``verify`` the folder first (``bench.storage.manifest``) and read each file
through its loader (``bench.storage.run_files``).
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
import yaml
from PIL import Image

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.config.suite_config import SuiteConfig
from bench.config.suite_yaml import read_yaml
from bench.core.atomic import write_text_atomic
from bench.core.errors import BenchError
from bench.core.output_paths import RESULTS_FOLDER, check_folder_to_write
from bench.core.results import HP, IDENTITY, ROW_COLUMNS, RunResult
from bench.core.specs import RERUN_PHASE
from bench.storage.manifest import seal_run, verify_runs
from bench.storage.run_files import (
    CONFIG,
    damaged,
    load_config,
    load_metrics,
    load_rounds,
    load_status,
    read_text,
)

if TYPE_CHECKING:
    from bench.core.specs import RunSpec

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
    """``root`` can hold a results folder: absent, or a folder (not a file) that takes files."""
    check_folder_to_write(root, "--out", RESULTS_FOLDER)


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
        remedy = ("restore the suite that ran here (only its claims:, gates: and "
                  "description: may be edited)")
        try:
            return parse_suite(read_yaml(read_text(path, remedy), str(path)), str(path))
        except BenchError as exc:
            message = str(exc)
            if message.endswith(remedy):
                raise
            where = "" if str(path) in message else f"{path}: "  # a field's own validator
            raise BenchError(f"{where}{message}; {remedy}") from None

    def verify(self, seal: bool = False) -> SuiteConfig:
        """The stored suite, once every file a command reads has been checked: suite.yaml
        and rounds.json parse, every run folder matches its manifest, and every run trained
        with the settings suite.yaml gives it. Nothing is read as data before this. With
        ``seal`` (``run_bench.py verify``), runs written before manifests existed are checked
        the same way and then sealed; a refusal seals none."""
        config = self.load_suite()
        load_rounds(self.root)
        to_seal = verify_runs(self.run_dirs(), seal)
        specs = expand(config)
        self.check_finished_runs_match(specs)
        planned = {spec.run_id for spec in specs}
        for run_dir in self.run_dirs():  # a study's reruns are planned from its trials
            if (run_dir.name not in planned
                    and load_config(run_dir)["study"]["phase"] != RERUN_PHASE):
                raise damaged(run_dir / CONFIG, f"not a run of {self.root / SUITE_FILE}",
                              f"restore that suite.yaml, or move {run_dir} out of the folder")
        for run_dir in to_seal:
            seal_run(run_dir)
        return config

    # --- runs ------------------------------------------------------------------------

    def finished_run_ids(self) -> set[str]:
        return {p.name for p in self.run_dirs()}

    def check_finished_runs_match(self, specs: "list[RunSpec]") -> None:
        """Refuse to continue when a finished run's stored config differs from the RunSpec the
        suite now gives it (its suite.yaml edited after it trained): skipping it by its id
        would mix settings silently. Fields the stored config predates are not compared."""
        for spec in specs:
            run_dir = self.runs_dir / spec.run_id
            if not run_dir.is_dir():
                continue
            stored = load_config(run_dir)
            differ = _differences(stored, json.loads(json.dumps(spec.to_dict())))
            if differ:
                raise BenchError(
                    f"{run_dir / CONFIG}: finished run {spec.run_id} trained with other "
                    f"settings than suite.yaml now gives it ({'; '.join(differ[:3])}); restore "
                    "suite.yaml's "
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
                import torch  # here: the CLI imports the store before a suite is checked

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
            seal_run(tmp, run_id)  # last: a folder with its manifest is complete
            os.replace(tmp, final)  # fails rather than overwrite a finished run
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    # --- reading -----------------------------------------------------------------------

    def run_dirs(self) -> list[Path]:
        """Finished runs' folders: every folder under ``runs/`` (``verify`` refuses a damaged
        one; a temporary ``.name`` one is never a finished run, even complete: its writer
        died before renaming it)."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir()
                      if not p.name.startswith(".") and p.is_dir())

    def load_runs(self) -> pd.DataFrame:
        """One row per run: its identity, status and counters."""
        records = []
        for path in self.run_dirs():
            config = load_config(path)
            status = load_status(path)
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
            rows = load_metrics(path)
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
