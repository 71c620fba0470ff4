"""Group checkpoints: the files that let a seed-batched group continue after a crash.

A group's trainer state (``GroupTrainer.state_dict``) is saved at every evaluation checkpoint
and at the end to ``<out>/checkpoints/<group-id>.pt``, atomically (a temp file in the same
folder, then ``os.replace``), so the file is always either the previous checkpoint or the new
one. The file is an envelope ``{"format", "sha256", "payload"}`` whose payload is the
``torch.save`` bytes of the state as a uint8 tensor: both levels load with
``torch.load(weights_only=True)``, and the checksum catches a damaged file that still unpickles.
A file that fails to load or to verify is removed with a warning and its group starts over.
"""

import hashlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.core.atomic import atomic_write
from bench.core.specs import RunSpec

CHECKPOINTS = "checkpoints"
FORMAT = "ganbench-group-checkpoint/1"


def group_id(specs: Sequence[RunSpec]) -> str:
    """A group's stable name: what it trains and a digest of its members' run ids, e.g.
    ``gan__adam__6x__3f9a1c2e4b7d`` (members differ in seed, dataset or trial)."""
    first = specs[0]
    digest = hashlib.sha256("\n".join(s.run_id for s in specs).encode()).hexdigest()[:12]
    return f"{first.gan}__{first.optimizer.name}__{len(specs)}x__{digest}"


def checkpoint_path(root: Path, specs: Sequence[RunSpec]) -> Path:
    """Where the group of ``specs`` checkpoints inside the suite folder ``root``."""
    return Path(root) / CHECKPOINTS / f"{group_id(specs)}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors and plain Python values only) atomically to ``path``."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getbuffer()
    envelope = {
        "format": FORMAT,
        "sha256": hashlib.sha256(data).hexdigest(),
        "payload": torch.frombuffer(bytearray(data), dtype=torch.uint8),
    }
    atomic_write(path, lambda tmp: torch.save(envelope, tmp))


def load_checkpoint(path: Path, run_ids: Sequence[str]) -> dict[str, Any] | None:
    """The state saved at ``path`` for the runs ``run_ids``, or None when there is none.

    A file that cannot be used (truncated, corrupt, another format, other runs) is removed
    with a warning: its group then restarts from scratch, which gives the same results.
    """
    if not path.is_file():
        return None
    try:
        state = _read(path)
        if list(state["run_ids"]) != list(run_ids):
            raise ValueError(f"it holds runs {state['run_ids']}")
    except Exception as exc:  # any damage at all means: start over, never crash the suite
        reason = (str(exc).strip().splitlines() or [""])[0][:200]  # torch's run to pages
        warnings.warn(f"unusable checkpoint {path} ({type(exc).__name__}: {reason}); "
                      "its runs restart from scratch", stacklevel=2)
        path.unlink(missing_ok=True)
        return None
    return state


def _read(path: Path) -> dict[str, Any]:
    envelope = torch.load(path, map_location="cpu", weights_only=True)
    if envelope.get("format") != FORMAT:
        raise ValueError(f"format {envelope.get('format')!r}, expected {FORMAT!r}")
    data = envelope["payload"].numpy().tobytes()
    if hashlib.sha256(data).hexdigest() != envelope["sha256"]:
        raise ValueError("checksum mismatch")
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def discard_checkpoint(path: Path) -> None:
    """Remove a group's checkpoint once its runs are in the results store."""
    path.unlink(missing_ok=True)


def discard_partial_checkpoints(root: Path) -> None:
    """Remove the temp files of saves a killed worker left in ``root``'s checkpoints."""
    for path in (Path(root) / CHECKPOINTS).glob(".*"):
        path.unlink(missing_ok=True)


# --- a RunResult's progress in checkpoint-safe types ----------------------------------------


def encode_result(status: str, diverged_step: int | None, rows: list[dict],
                  images: dict[int, np.ndarray]) -> dict[str, Any]:
    """One member's results so far as tensors, strings and lists (rows become columns)."""
    encoded: dict[str, Any] = {
        "status": status,
        "step": torch.tensor([r["step"] for r in rows], dtype=torch.long),
        "metric": [r["metric"] for r in rows],
        "value": torch.tensor([r["value"] for r in rows], dtype=torch.float64),
        "images": {int(step): torch.from_numpy(grid.copy()) for step, grid in images.items()},
    }
    if diverged_step is not None:
        encoded["diverged_step"] = int(diverged_step)
    return encoded


def decode_result(encoded: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a RunResult continuing ``encode_result``'s member."""
    rows = [
        {"step": int(step), "metric": metric, "value": float(value)}
        for step, metric, value in zip(encoded["step"].tolist(), encoded["metric"],
                                       encoded["value"].tolist(), strict=True)
    ]
    return {
        "status": encoded["status"],
        "diverged_step": encoded.get("diverged_step"),
        "rows": rows,
        "images": {step: grid.numpy() for step, grid in encoded["images"].items()},
    }
