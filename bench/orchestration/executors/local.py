"""The local executor: groups in this process (GPU, one worker) or in a process pool (CPU).

A pool whose worker dies (SIGKILL, the out-of-memory killer) is broken for every group in
flight; they are lost together, because the pool cannot say whose worker died. The pool is
rebuilt once for the unfinished groups, which continue from their checkpoints; a second loss
records them as failures, and ``run --resume`` continues them later.

A suite's side experiments are the pool's last tasks: short beside a group, they fill the
end of the training, where one worker would otherwise wait for the other's last group.
"""

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
import warnings
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from functools import partial

import torch

from bench.core.environment import resolve_device
from bench.orchestration.executors.task import (
    Executor,
    ExperimentTask,
    GroupTask,
    TaskEvents,
    run_experiment,
    run_experiments_here,
    run_task,
)

_updates = None
"""The pool's progress queue, set in each worker process by ``_init_worker``."""


class LocalExecutor(Executor):
    def __init__(self, device_name: str = "auto", workers: int | None = None) -> None:
        self.device = resolve_device(device_name)
        self.workers = workers or os.cpu_count() or 1

    def run(self, tasks: list[GroupTask], events: TaskEvents,
            experiments: Sequence[ExperimentTask] = ()) -> None:
        jobs = [*tasks, *experiments]  # experiments last: short, they fill the pool's end
        if self.device.type == "cuda" or self.workers == 1 or not tasks or len(jobs) <= 1:
            self._run_in_process(tasks, events)
            run_experiments_here(experiments, self.device, events)
            return
        lost = self._run_in_pool(jobs, events)
        if lost:
            warnings.warn(f"a worker process died; restarting the pool for {len(lost)} "
                          "unfinished tasks; groups continue from their checkpoints",
                          stacklevel=2)
            lost = self._run_in_pool(lost, events)
        for task in lost:
            events.failed(task, "its worker process died twice (killed, or out of memory); "
                          "'run --resume DIR' continues it (a group from its last checkpoint)")

    def _run_in_process(self, tasks: list[GroupTask], events: TaskEvents) -> None:
        threads = torch.get_num_threads()
        for task in tasks:
            try:
                results = run_task(task, str(self.device), threads,
                                   partial(events.progress, task.index))
            except Exception:
                events.failed(task, traceback.format_exc())
                continue
            events.finished(task, results)

    def _run_in_pool(self, tasks: list[GroupTask | ExperimentTask],
                     events: TaskEvents) -> list[GroupTask | ExperimentTask]:
        """Run ``tasks`` in a fresh pool, in their order; returns those lost to a worker's
        death."""
        workers = min(self.workers, len(tasks))
        threads = max(1, (os.cpu_count() or 1) // workers)
        context = mp.get_context("spawn")  # no fork: safe with threads and CUDA
        updates = context.Queue()  # reaches the workers through initargs (at their spawn)
        lost = []
        with cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                    initargs=(updates, os.getpid())) as pool:
            futures = {_submit(pool, task, threads): task for task in tasks}
            remaining = set(futures)
            while remaining:
                done, remaining = cf.wait(remaining, timeout=0.5,
                                          return_when=cf.FIRST_COMPLETED)
                _drain(updates, events)
                for future, task in futures.items():  # in the tasks' order
                    if future not in done:
                        continue
                    try:
                        results = future.result()
                    except BrokenProcessPool:
                        lost.append(task)
                        continue
                    except Exception:
                        events.failed(task, traceback.format_exc())
                        continue
                    if isinstance(task, GroupTask):  # an experiment wrote its own files
                        events.finished(task, results)
        return [task for task in tasks if task in lost]  # in the tasks' order


def _init_worker(updates, parent: int) -> None:
    global _updates
    _updates = updates
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose driver died (SIGKILL) stops at once, instead of training on and writing
    checkpoints beside the driver that resumes the suite."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _submit(pool: cf.ProcessPoolExecutor, task: GroupTask | ExperimentTask,
            threads: int) -> cf.Future:
    if isinstance(task, ExperimentTask):
        return pool.submit(run_experiment, task, "cpu")
    return pool.submit(_pool_task, task, threads)


def _pool_task(task: GroupTask, threads: int):
    return run_task(task, "cpu", threads, partial(_report, task.index))


def _report(index: int, fraction: float) -> None:
    _updates.put((index, fraction))


def _drain(updates, events: TaskEvents) -> None:
    while True:
        try:
            index, fraction = updates.get_nowait()
        except queue.Empty:
            return
        events.progress(index, fraction)
