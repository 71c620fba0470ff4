"""Executors: where groups train. ``local`` (this machine) or ``ray`` (a Ray cluster); either
way the driver alone writes the results store."""

from bench.core.errors import BenchError
from bench.orchestration.executor_choices import CONNECT_TIMEOUT, EXECUTORS, LOCAL, RAY
from bench.orchestration.executors.local import LocalExecutor
from bench.orchestration.executors.ray import RayExecutor
from bench.orchestration.executors.task import (
    Executor,
    ExperimentTask,
    GroupTask,
    TaskEvents,
    run_task,
)

__all__ = ["Executor", "ExperimentTask", "GroupTask", "TaskEvents", "make_executor",
           "run_task"]


def make_executor(
    name: str = LOCAL, device_name: str = "auto", workers: int | None = None,
    address: str | None = None, connect_timeout: float = CONNECT_TIMEOUT,
) -> Executor:
    """The executor ``name``; a BenchError for bad combinations or a missing Ray."""
    if name == RAY:
        if workers is not None:
            raise BenchError("--workers applies to the local executor; Ray sizes its own workers")
        return RayExecutor(device_name, address, connect_timeout)
    if name != LOCAL:
        raise BenchError(f"unknown executor '{name}'; choose from {', '.join(EXECUTORS)}")
    if address is not None:
        raise BenchError("--address needs --executor ray")
    return LocalExecutor(device_name, workers)
