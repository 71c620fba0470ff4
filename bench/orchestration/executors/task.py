"""What executors run: one seed-batched group as a task, the function that trains it, a side
experiment and the function that runs it, and the interface between an executor and the
driver."""

import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import torch

from bench.config.plugins import load_plugins
from bench.core.environment import Environment
from bench.core.results import RunResult
from bench.core.specs import RunSpec
from bench.training.checkpoint import load_checkpoint, save_checkpoint
from bench.training.trainer import GroupTrainer, ProgressCallback


@dataclass(frozen=True)
class GroupTask:
    """One group of runs that differ only in seed, and where it checkpoints."""

    index: int
    """Position in the driver's plan (progress bars)."""
    specs: tuple[RunSpec, ...]
    checkpoint: Path
    """The group's checkpoint file: resumed from when usable, rewritten at every evaluation."""
    env: Environment
    plugins: tuple[str, ...] = ()
    """The plugin modules the driver loaded (``bench.config.plugins.loaded_plugins``): a
    worker process loads them before it trains."""

    @property
    def run_ids(self) -> list[str]:
        return [spec.run_id for spec in self.specs]

    def describe(self) -> str:
        first = self.specs[0]
        seeds = ",".join(str(s.seed) for s in self.specs)
        return f"{first.dataset}/{first.gan}/{first.optimizer_label} seeds {seeds}"


def run_task(
    task: GroupTask, device: str, threads: int, progress: ProgressCallback | None = None
) -> list[RunResult]:
    """Train a group, continuing from its checkpoint when a usable one exists. The worker
    entry point of every executor (top level, so it pickles)."""
    torch.set_num_threads(threads)
    load_plugins(task.plugins)  # a worker process starts without the driver's registrations
    trainer = GroupTrainer(list(task.specs), torch.device(device), task.env)
    state = load_checkpoint(task.checkpoint, task.run_ids)
    if state is not None:
        trainer.resume_from(state)
    return trainer.train(progress, partial(save_checkpoint, task.checkpoint))


@dataclass(frozen=True)
class ExperimentTask:
    """A suite's side experiment: short, seeded, and writing its own files once
    (``bench.experiments.files.write_once``), so a resumed suite skips it. Nothing of it
    goes through the driver; executors run it beside the groups."""

    name: str
    run: Callable[[Path, torch.device, Any], bool]
    """``run(out_dir, device, spec)``, a module-level function (the task pickles by name)."""
    out_dir: Path
    spec: Any

    def describe(self) -> str:
        return f"side experiment {self.name}"


def run_experiment(task: ExperimentTask, device: str) -> bool:
    """Run a side experiment unless its files are there; returns whether it ran. Top level,
    so it pickles."""
    return task.run(task.out_dir, torch.device(device), task.spec)


def run_experiments_here(experiments: Sequence[ExperimentTask], device: torch.device,
                         events: "TaskEvents") -> None:
    """Run ``experiments`` in this process, one after another; one that raises is reported
    to ``events`` and the others still run."""
    for experiment in experiments:
        try:
            run_experiment(experiment, str(device))
        except Exception:
            events.failed(experiment, traceback.format_exc())


class TaskEvents(Protocol):
    """What an executor tells the driver; called in the driver process only."""

    def finished(self, task: GroupTask, results: list[RunResult]) -> None:
        """``task`` trained; the driver stores its results."""

    def failed(self, task: GroupTask | ExperimentTask, message: str) -> None:
        """``task`` raised or its worker was lost; ``message`` says why."""

    def progress(self, index: int, fraction: float) -> None:
        """Task ``index`` has spent ``fraction`` of its budget (executors may never call it)."""


class Executor(ABC):
    """Runs tasks somewhere and streams their outcomes back. A context manager: entering it
    acquires what it needs (a Ray connection) and settles ``device``."""

    device: torch.device
    """The training device of every task."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @abstractmethod
    def run(self, tasks: list[GroupTask], events: TaskEvents,
            experiments: Sequence[ExperimentTask] = ()) -> None:
        """Train every task and run every side experiment while they train, reporting each
        group's outcome and each failure to ``events`` as it arrives."""
