"""One loader per kind of file in a results folder; each turns malformed content into one
BenchError naming the file and what to do, so no command reads garbage as data.

A run folder's files (``config.json``, ``status.json``, ``metrics.csv``, ``provenance.json``,
``manifest.json``) are read here; ``suite.yaml`` by ``ResultsStore.load_suite`` (the suite
parser), ``rounds.json`` by ``load_rounds``. The loaders check the shape the readers rely on;
``bench.storage.manifest`` checks that the bytes are the ones the run wrote. No torch.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.core.errors import BenchError
from bench.core.results import DIVERGED, FINISHED, ROW_COLUMNS
from bench.core.specs import EvalSpec
from bench.core.validators import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    Choice,
    Number,
    flag,
    identifier,
    mapping,
    parse_dataclass,
    text,
)
from bench.storage.rounds import ROUNDS_FILE, Rounds

CONFIG, STATUS, METRICS, PROVENANCE, MANIFEST = (
    "config.json", "status.json", "metrics.csv", "provenance.json", "manifest.json")
MANIFEST_FORMAT = "ganbench-run-manifest/1"


def retrain_remedy(run_dir: Path) -> str:
    """What to do about a damaged run: restore it, or train it again into a fresh folder."""
    root = run_dir.parent.parent
    return (f"restore it from a copy, or delete {run_dir} and run 'run_bench.py run "
            f"--resume {root}' to train that run again")


def damaged(path: Path, problem: str, remedy: str | None = None) -> BenchError:
    """The one error of a file that cannot be used: which file, what is wrong, what to do."""
    return BenchError(f"{path}: {problem}; {remedy or retrain_remedy(path.parent)}")


def read_text(path: Path, remedy: str | None = None) -> str:
    if not path.is_file():
        raise damaged(path, "missing", remedy)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise damaged(path, "not UTF-8 text (binary or corrupt)", remedy) from None
    except OSError as exc:
        raise damaged(path, f"cannot be read ({exc.strerror})", remedy) from None


def read_json_object(path: Path, remedy: str | None = None) -> dict:
    """A JSON file holding an object (strict: no NaN literals)."""
    def no_constant(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    try:
        raw = json.loads(read_text(path, remedy), parse_constant=no_constant)
    except ValueError as exc:  # JSONDecodeError included
        raise damaged(path, f"malformed JSON ({exc})", remedy) from None
    if not isinstance(raw, dict):
        raise damaged(path, f"expected a JSON object, got {type(raw).__name__}", remedy)
    return raw


def _checked(path: Path, raw: Any, key: str, validator, remedy: str | None = None) -> Any:
    """``raw[key]`` checked by ``validator``, a missing key or a bad value as the file's error."""
    if not isinstance(raw, dict) or key not in raw:
        raise damaged(path, f"lacks '{key}'", remedy)
    try:
        return validator(raw[key], key)
    except BenchError as exc:
        raise damaged(path, str(exc), remedy) from None


def _optional(validator):
    def check(raw: Any, where: str) -> Any:
        return None if raw is None else validator(raw, where)
    return check


_NUMBER = Number()


def _numbers(raw: Any, where: str) -> dict:
    for key, value in mapping(raw, where).items():
        _NUMBER(value, f"{where}.{key}")
    return raw


def load_config(run_dir: Path) -> dict:
    """A run's ``config.json``: its RunSpec as stored, with the fields readers use checked."""
    path = run_dir / CONFIG
    raw = read_json_object(path)
    for key in ("run_id", "dataset", "arch", "gan", "optimizer_label"):
        _checked(path, raw, key, identifier)
    _checked(path, raw, "seed", NON_NEGATIVE_INT)
    study = _checked(path, raw, "study", mapping)
    _checked(path, study, "phase", text)
    _checked(path, study, "trial", _optional(NON_NEGATIVE_INT))
    _checked(path, study, "params", _numbers)
    _checked(path, raw, "eval", lambda value, where: parse_dataclass(EvalSpec, value, where))
    _checked(path, raw, "batch_size", POSITIVE_INT)
    budget = _checked(path, raw, "budget", mapping)
    _checked(path, budget, "kind", text)
    _checked(path, budget, "amount", _NUMBER)
    optimizer = _checked(path, raw, "optimizer", mapping)
    _checked(path, optimizer, "name", text)
    _checked(path, optimizer, "lr", _NUMBER)
    for key in ("lr_critic", "lr_generator"):  # TTUR: folders before issue 24 lack them
        if key in optimizer:
            _checked(path, optimizer, key, _optional(_NUMBER))
    for key in ("model", "image_model"):
        _checked(path, raw, key, mapping)
    # written since the metric registry: how the run was evaluated ({} when it never was)
    if "evaluation" in raw and _checked(path, raw, "evaluation", mapping):
        evaluation = raw["evaluation"]
        _checked(path, evaluation, "generator", text)
        _checked(path, evaluation, "metrics", _names_to_text)
    return raw


def _names_to_text(raw: Any, where: str) -> dict:
    for key, value in mapping(raw, where).items():
        text(value, f"{where}.{key}")
    return raw


def _texts(raw: Any, where: str) -> list:
    if not isinstance(raw, list):
        raise BenchError(f"{where}: expected a list, got {raw!r}")
    for i, value in enumerate(raw):
        text(value, f"{where}[{i}]")
    return raw


def eval_spec(config: dict) -> EvalSpec:
    """The checkpoint schedule of a config that ``load_config`` accepted."""
    return parse_dataclass(EvalSpec, config["eval"], "eval")


def load_status(run_dir: Path) -> dict:
    """A run's ``status.json``: finished or diverged (at a step), and its counters."""
    path = run_dir / STATUS
    raw = read_json_object(path)
    status = _checked(path, raw, "status", Choice((FINISHED, DIVERGED)))
    step = _checked(path, raw, "diverged_step", _optional(NON_NEGATIVE_INT))
    if (status == DIVERGED) != (step is not None):
        raise damaged(path, f"status {status} with diverged_step {step}")
    counters = _checked(path, raw, "counters", _numbers)
    _checked(path, counters, "generator_steps", NON_NEGATIVE_INT)
    return raw


def load_provenance(run_dir: Path) -> dict:
    """A run's ``provenance.json``: where it ran. Its keys are optional (older folders lack
    some); the report reads ``packages`` and ``acceleration``, so those are checked."""
    path = run_dir / PROVENANCE
    raw = read_json_object(path)
    if "packages" in raw:
        _checked(path, raw, "packages", mapping)
    # {} when the run never trained an iteration (nothing to speed up)
    if "acceleration" in raw and _checked(path, raw, "acceleration", mapping):
        acceleration = raw["acceleration"]
        for key in ("compile", "notes"):
            _checked(path, acceleration, key, _texts)
        for key in ("cuda_graphs", "channels_last"):
            _checked(path, acceleration, key, flag)
    return raw


@dataclass(frozen=True)
class FileRecord:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """What a run wrote: every file's digest and size, and its metric rows' extent."""

    files: dict[str, FileRecord]
    """Path relative to the run folder (POSIX) -> record."""
    rows: int
    last_step: int | None

    def to_dict(self) -> dict:
        return {"format": MANIFEST_FORMAT,
                "files": {name: {"sha256": r.sha256, "size": r.size}
                          for name, r in sorted(self.files.items())},
                "metrics": {"rows": self.rows, "last_step": self.last_step}}


def unsealed_remedy(run_dir: Path) -> str:
    return (f"folders written before run manifests existed are checked and sealed by "
            f"'run_bench.py verify {run_dir.parent.parent}'")


def _digest(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or len(raw) != 64 or set(raw) - set("0123456789abcdef"):
        raise BenchError(f"{where}: expected a SHA-256 hex digest, got {raw!r}")
    return raw


def load_manifest(run_dir: Path) -> Manifest:
    """A run's ``manifest.json``; a run without one was written before manifests existed."""
    path = run_dir / MANIFEST
    if not path.is_file():
        raise damaged(path, "missing", unsealed_remedy(run_dir))
    raw = read_json_object(path)
    _checked(path, raw, "format", Choice((MANIFEST_FORMAT,)))
    files = {}
    for name, record in _checked(path, raw, "files", mapping).items():
        files[name] = FileRecord(_checked(path, record, "sha256", _digest),
                                 _checked(path, record, "size", NON_NEGATIVE_INT))
    metrics = _checked(path, raw, "metrics", mapping)
    return Manifest(files, _checked(path, metrics, "rows", NON_NEGATIVE_INT),
                    _checked(path, metrics, "last_step", _optional(NON_NEGATIVE_INT)))


def load_metrics(run_dir: Path) -> pd.DataFrame:
    """A run's ``metrics.csv``: tidy rows (integer step >= 0, metric name, numeric value);
    where the run is sealed, exactly the rows and last step its manifest records."""
    path = run_dir / METRICS
    if not read_text(path).endswith("\n"):  # every row ends with one: cut mid-row
        raise damaged(path, "its last row is cut short (no final newline)")
    try:
        rows = pd.read_csv(path, dtype={"metric": str})
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = (str(exc).strip().splitlines() or ["unparsable"])[0]
        raise damaged(path, f"malformed CSV ({reason})") from None
    if list(rows.columns) != ROW_COLUMNS:
        raise damaged(path, f"columns {list(rows.columns)}, expected {ROW_COLUMNS}")
    if rows.empty:
        rows = rows.astype({"step": int, "metric": str, "value": float})
    elif not (pd.api.types.is_integer_dtype(rows["step"]) and (rows["step"] >= 0).all()):
        raise damaged(path, "a step that is not a non-negative integer")
    elif rows["metric"].isna().any():
        raise damaged(path, "a row without a metric name")
    elif not pd.api.types.is_numeric_dtype(rows["value"]) or rows["value"].dtype == bool:
        raise damaged(path, "a value that is not a number")
    rows = rows.astype({"value": float})
    if (run_dir / MANIFEST).is_file():
        manifest = load_manifest(run_dir)
        if (len(rows), last_step(rows)) != (manifest.rows, manifest.last_step):
            raise damaged(path, f"{len(rows)} rows ending at step {last_step(rows)}, its "
                          f"manifest records {manifest.rows} ending at {manifest.last_step}")
    return rows


def last_step(rows: pd.DataFrame) -> int | None:
    return None if rows.empty else int(rows["step"].max())


_DESIGN_KEYS = ("start_seeds", "max_seeds", "seed_step")


def _rounds_shape(raw: dict, path: Path, remedy: str) -> None:
    design = _checked(path, raw, "design",
                      lambda value, where: mapping(value, where, tuple(_DESIGN_KEYS)), remedy)
    for key in _DESIGN_KEYS:
        _checked(path, design, key, Number(minimum=1, integer=True), remedy)
    _checked(path, raw, "alpha", Number(minimum=0, maximum=1, low_open=True), remedy)
    rounds = _checked(path, raw, "rounds", lambda value, where: value, remedy)
    if not isinstance(rounds, list) or not rounds:
        raise damaged(path, "'rounds' is not a non-empty list", remedy)
    for entry in rounds:
        _checked(path, entry, "look", NON_NEGATIVE_INT, remedy)
        level = _checked(path, entry, "level", _NUMBER, remedy)
        if not 0 <= level <= 1 or math.isnan(level):
            raise damaged(path, f"level {level} is not in [0, 1]", remedy)
        _checked(path, entry, "undecided", NON_NEGATIVE_INT, remedy)
        for seeds in _checked(path, entry, "added", mapping, remedy).values():
            _checked(path, {"seeds": seeds}, "seeds", _seed_list, remedy)
        for verdict in _checked(path, entry, "verdicts", mapping, remedy).values():
            _checked(path, {"verdict": verdict}, "verdict", text, remedy)
        unknown = set(entry) - {"look", "level", "added", "verdicts", "undecided"}
        if unknown:
            raise damaged(path, f"unknown key(s) {sorted(unknown)} in a round", remedy)


def _seed_list(raw: Any, where: str) -> list:
    if not isinstance(raw, list):
        raise BenchError(f"{where}: expected a list of seeds, got {raw!r}")
    for seed in raw:
        NON_NEGATIVE_INT(seed, where)
    return raw


def load_rounds(root: Path) -> Rounds | None:
    """The rounds file of ``run --until-decided`` (None where the folder has none), its
    shape checked before ``Rounds.load`` builds it."""
    path = Path(root) / ROUNDS_FILE
    if not path.exists():
        return None
    remedy = ("restore it from a copy (it records the looks already taken, which set the "
              "level the claims are judged at)")
    _rounds_shape(read_json_object(path, remedy), path, remedy)
    return Rounds.load(root)
