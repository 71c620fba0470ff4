"""A run folder's manifest: sealed last when the run is written, verified before any read.

``manifest.json`` records each file's SHA-256 and size and ``metrics.csv``'s row count and
last step. ``report``, ``compare`` and ``run --resume`` verify every run folder first
(``verify_runs``): a missing, truncated, corrupt or edited file is refused with one error
naming it, before anything of it is read or anything is written. A run is sealed only when
its files agree with each other (``check_run``): its metric rows end at the step its status
says it stopped, so a cut-back ``metrics.csv`` can never be read as a shorter run. Folders
written before manifests existed are sealed, after the same checks, by
``run_bench.py verify DIR``. No torch.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from bench.core.atomic import write_text_atomic
from bench.core.results import FINISHED
from bench.storage.run_files import (
    MANIFEST,
    METRICS,
    STATUS,
    FileRecord,
    Manifest,
    damaged,
    eval_spec,
    last_step,
    load_config,
    load_manifest,
    load_metrics,
    load_provenance,
    load_status,
)


def _files(run_dir: Path) -> Iterator[Path]:
    """The run's files, its manifest aside (a dot name is a writer's temporary file)."""
    for path in sorted(run_dir.rglob("*")):
        relative = path.relative_to(run_dir)
        if any(part.startswith(".") for part in relative.parts) or path.name == MANIFEST:
            continue
        if path.is_file():
            yield path


def _record(path: Path) -> FileRecord:
    with path.open("rb") as f:
        return FileRecord(hashlib.file_digest(f, "sha256").hexdigest(), path.stat().st_size)


def _last_checkpoint_before(config: dict, step: int) -> int:
    """The last evaluation checkpoint before generator step ``step`` (step 0 always is one)."""
    schedule = eval_spec(config)
    return next((s for s in range(step - 1, 0, -1) if schedule.is_checkpoint(s)), 0)


def check_ends(run_dir: Path, config: dict, status: dict, rows: int,
               last: int | None) -> None:
    """The metric rows end where the status says the run stopped: a finished run at its last
    generator step (the end is always evaluated); a diverged one at the last checkpoint
    before its diverged step, or at that step."""
    path = run_dir / METRICS
    if status["status"] == FINISHED:
        expected = status["counters"]["generator_steps"]
        if last != expected:
            raise damaged(path, f"its rows end at step {last} but {STATUS} says the run "
                          f"finished at step {expected} (truncated?)")
        return
    diverged = status["diverged_step"]
    if last is None and diverged == 0:
        return  # non-finite at the first evaluation: no row at all
    low = _last_checkpoint_before(config, diverged) if diverged else 0
    if last is None or not low <= last <= diverged:
        raise damaged(path, f"its {rows} rows end at step {last} but {STATUS} says the run "
                      f"diverged at step {diverged} (rows expected up to a step in "
                      f"[{low}, {diverged}])")


def check_run(run_dir: Path, name: str | None = None) -> Manifest:
    """Load every file a reader parses and check that they agree (the config's run id is
    the folder's ``name``, the metrics end at the status's step); returns the manifest that
    records them."""
    config = load_config(run_dir)
    name = name or run_dir.name
    if config["run_id"] != name:
        raise damaged(run_dir / "config.json", f"holds run {config['run_id']}, not {name}")
    status = load_status(run_dir)
    load_provenance(run_dir)
    rows = load_metrics(run_dir)
    check_ends(run_dir, config, status, len(rows), last_step(rows))
    steps = sorted(set(rows["step"]))
    if len(steps) > 2:  # every checkpoint after step 0 records the same metrics
        before, last = (set(rows.loc[rows["step"] == s, "metric"]) for s in steps[-2:])
        if before - last:
            raise damaged(run_dir / METRICS, f"step {steps[-1]} lacks {sorted(before - last)} "
                          f"that step {steps[-2]} recorded (truncated?)")
    files = {path.relative_to(run_dir).as_posix(): _record(path) for path in _files(run_dir)}
    return Manifest(files, len(rows), last_step(rows))


def seal_run(run_dir: Path, name: str | None = None) -> None:
    """Check the run's files and write its manifest, atomically, as its last file."""
    manifest = check_run(run_dir, name)
    write_text_atomic(run_dir / MANIFEST, json.dumps(manifest.to_dict(), indent=2))


def verify_run(run_dir: Path) -> None:
    """Refuse a run folder whose files are not exactly those its manifest records."""
    manifest = load_manifest(run_dir)
    present = {path.relative_to(run_dir).as_posix(): path for path in _files(run_dir)}
    for name, record in manifest.files.items():
        path = run_dir / name
        if name not in present:
            raise damaged(path, "missing (its manifest records it)")
        size = present[name].stat().st_size
        if size != record.size:
            raise damaged(path, f"{size} bytes, its manifest records {record.size} "
                          "(truncated or extended)")
        if _record(path).sha256 != record.sha256:
            raise damaged(path, "its contents differ from what the run wrote (edited or "
                          "corrupt: its SHA-256 does not match the manifest)")
    for name in sorted(set(present) - set(manifest.files)):
        raise damaged(run_dir / name, "not written by the run (not in its manifest)",
                      f"move it out of {run_dir}")
    config, status = load_config(run_dir), load_status(run_dir)
    if config["run_id"] != run_dir.name:
        raise damaged(run_dir / "config.json", f"holds run {config['run_id']}, not "
                      f"{run_dir.name}")
    check_ends(run_dir, config, status, manifest.rows, manifest.last_step)


def unsealed(run_dirs: list[Path]) -> list[Path]:
    """The runs written before manifests existed (or whose manifest was deleted)."""
    return [d for d in run_dirs if not (d / MANIFEST).exists()]


def verify_runs(run_dirs: list[Path], seal: bool = False) -> list[Path]:
    """Verify every run folder of a results folder (``ResultsStore.run_dirs``). With
    ``seal`` (``run_bench.py verify``), an unsealed run is checked (``check_run``) instead of
    refused; returns those, for the caller to ``seal_run`` once everything has passed."""
    to_seal = unsealed(run_dirs) if seal else []
    for run_dir in run_dirs:
        if run_dir in to_seal:
            check_run(run_dir)
        else:
            verify_run(run_dir)
    return to_seal
