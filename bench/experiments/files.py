"""An experiment's output files, written once: a resumed suite finds them and skips it."""

from collections.abc import Callable
from pathlib import Path

import torch

from bench.experiments.adversary import small_kernels


def write_once(out_dir: Path, files: tuple[str, ...], device: torch.device,
               write: Callable[[Path], None]) -> bool:
    """``write(out_dir)`` (with ``small_kernels``) unless every one of ``files`` is already in
    ``out_dir``; returns whether it ran. ``write`` writes each file atomically, so a present
    file is complete."""
    out_dir = Path(out_dir)
    if all((out_dir / name).is_file() for name in files):
        return False
    out_dir.mkdir(parents=True, exist_ok=True)
    with small_kernels(device):
        write(out_dir)
    return True
