"""Shared helpers of the throughput benchmarks, and the machine info they are saved with.

``pytest`` alone runs every benchmark once, untimed (``--benchmark-disable`` in pyproject);
``tox -e bench`` times them and saves the results for ``--benchmark-compare``.
"""

import os
from collections.abc import Callable
from typing import TypeVar

import pytest
import torch


def bench_device() -> torch.device:
    """The device a suite's ``--device auto`` would train on."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


T = TypeVar("T")


def synchronised(fn: Callable[[], T], device: torch.device) -> Callable[[], T]:
    """``fn`` that returns only when its device work is done, so a GPU is timed honestly."""
    if device.type != "cuda":
        return fn

    def run() -> T:
        result = fn()
        torch.cuda.synchronize(device)
        return result

    return run


def record_rates(benchmark, device: torch.device, **per_call: float) -> None:
    """``extra_info``: work per call, the device, torch version and threads, the load average
    (other processes on a shared machine slow the timings down), and, when the benchmark was
    timed, each amount per second at the median time."""
    benchmark.extra_info.update(
        {"device": str(device), "torch": torch.__version__,
         "torch_threads": torch.get_num_threads(), "load_average_1m": os.getloadavg()[0],
         **per_call}
    )
    if benchmark.stats is not None:  # None under --benchmark-disable
        median = benchmark.stats.stats.median
        benchmark.extra_info.update({f"{name}_per_s": amount / median
                                     for name, amount in per_call.items()})


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Saved with every benchmark run, so --benchmark-compare shows what ran where."""
    machine_info["torch"] = torch.__version__
    machine_info["torch_threads"] = torch.get_num_threads()  # tests/conftest.py pins one
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["cuda_device"] = (
        torch.cuda.get_device_name() if torch.cuda.is_available() else None
    )
