"""The Ray executor: each group is a Ray task with its resource request; results stream back
through a ``ray.wait`` loop to the driver, which alone writes the results store.

Ray is an optional extra. Workers need this package installed (or shipped in a runtime_env)
and, for checkpoints to survive a lost node, the suite folder on a filesystem they share with
the driver; without one, a retried group restarts from scratch, with the same results. A
suite's side experiments run in the driver while the cluster trains (they write into the
driver's results folder).
"""

import socket
import time
from collections.abc import Sequence
from types import TracebackType

import torch

from bench.core.errors import BenchError
from bench.orchestration.executor_choices import CONNECT_TIMEOUT
from bench.orchestration.executors.task import (
    Executor,
    ExperimentTask,
    GroupTask,
    TaskEvents,
    run_experiments_here,
    run_task,
)

INSTALL_HINT = 'pip install -e ".[ray]"'
GPU_SHARE = {"toy": 0.25, "image": 0.5}
"""Fraction of a GPU per group: MLP ensembles are tiny (four share a GPU), DCGANs small."""
RETRIES = 1
"""Ray reruns a task whose worker or node died this often; it resumes from its checkpoint."""


def _host_port(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (optionally ``ray://HOST:PORT``) split; a BenchError otherwise."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BenchError(f"--address {address}: expected auto or HOST:PORT, e.g. "
                         "10.0.0.5:6379 (the address 'ray start --head' printed)")
    return host, int(port)


def wait_for_cluster(address: str, timeout: float) -> None:
    """Return once ``address`` accepts a TCP connection; a BenchError naming the address
    after ``timeout`` seconds (Ray's own client retries for many minutes instead)."""
    host, port = _host_port(address)
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=max(remaining, 0.1)):
                return
        except OSError as exc:
            if time.monotonic() + 0.5 >= deadline:
                raise BenchError(
                    f"--address {address}: no Ray cluster answered within {timeout:g} s "
                    f"({exc.strerror or exc}); check the address and that 'ray start --head' "
                    "runs there, or wait longer with --ray-timeout SECONDS") from None
            time.sleep(0.5)


class RayExecutor(Executor):
    def __init__(
        self, device_name: str = "auto", address: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise BenchError(
                f"--executor ray needs Ray, which is not installed; install it with {INSTALL_HINT}"
            ) from None
        self._ray = ray
        self.device_name = device_name
        self.address = address
        self.connect_timeout = connect_timeout
        self._started = False

    def __enter__(self) -> "RayExecutor":
        """Connect to ``address`` (``auto``: the local cluster), start a local instance when
        there is no address and Ray is not running yet, and pick the device from the cluster's
        resources: ``auto`` means CUDA when the cluster has GPUs, whatever the driver has."""
        ray = self._ray
        if not ray.is_initialized():
            if self.address is None:
                ray.init(include_dashboard=False)
            else:
                if self.address != "auto":
                    wait_for_cluster(self.address, self.connect_timeout)
                try:
                    ray.init(address=self.address)
                except ConnectionError as exc:
                    raise BenchError(f"--address {self.address}: {exc}") from None
            self._started = True
        gpus = ray.cluster_resources().get("GPU", 0)
        if self.device_name == "cuda" and not gpus:
            self.__exit__(None, None, None)
            raise BenchError("--device cuda: the Ray cluster has no GPUs; use --device cpu or auto")
        cuda = self.device_name == "cuda" or (self.device_name == "auto" and gpus > 0)
        self.device = torch.device("cuda" if cuda else "cpu")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._started:  # leave a cluster we joined running; stop one we started
            self._ray.shutdown()
            self._started = False

    def _resources(self, task: GroupTask) -> dict[str, float]:
        if self.device.type == "cuda":
            return {"num_cpus": 1, "num_gpus": GPU_SHARE[task.specs[0].domain]}
        return {"num_cpus": 1}

    def run(self, tasks: list[GroupTask], events: TaskEvents,
            experiments: Sequence[ExperimentTask] = ()) -> None:
        ray = self._ray
        remote = ray.remote(run_task)
        refs = {
            remote.options(**self._resources(task), max_retries=RETRIES)
            .remote(task, str(self.device), 1): task
            for task in tasks
        }
        run_experiments_here(experiments, self.device, events)  # while the groups train
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                task = refs[ref]
                try:
                    results = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the task raised, or its worker died
                    events.failed(task, str(exc))
                    continue
                events.finished(task, results)
