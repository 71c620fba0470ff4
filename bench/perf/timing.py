"""Wall-clock timing that waits for the device, shared by every ``perf`` measurement."""

import time
from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")

PYTORCH_FID_BATCH = 50
"""pytorch-fid's default batch: its features reach the host 50 at a time."""


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], T], device: torch.device) -> tuple[float, T]:
    """Seconds ``fn`` takes until its device work is done, and what it returned."""
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - start, out
