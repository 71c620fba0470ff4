"""Runs a suite: plan (validate everything), execute groups, store results, build the report.

Groups of runs that differ only in seed train together (seed batching). On a CPU, groups run
in worker processes, one per core; on a GPU they run one after another in this process. The
driver alone writes the results store, as each group finishes, so an interrupted suite keeps
every finished run and a re-run with the same ``--out`` skips them.
"""

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import traceback
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import torch
from tqdm import tqdm

from bench.config import RunSpec, SuiteConfig, expand
from bench.diagnostics.critic_experiment import DIAGNOSTICS_DIR, run_critic_diagnostics
from bench.environment import Environment
from bench.errors import BenchError
from bench.features.fid_inception import load_fid_inception
from bench.provenance import collect
from bench.schedule import Counters, CriticSchedule, next_iteration_fits
from bench.store import ResultsStore
from bench.trainer import GroupTrainer, RunResult
from bench.workload import critic_norm_for, load_image_split


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; asking for CUDA without it is an input error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise BenchError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def check_budgets(specs: list[RunSpec]) -> None:
    """Every run must afford at least one full iteration of its schedule."""
    for spec in specs:
        first = CriticSchedule(spec.recipe.n_critic, spec.recipe.warmup).critic_steps_before(0)
        if not next_iteration_fits(spec.budget, Counters(), first, spec.batch_size):
            raise BenchError(
                f"budget {spec.budget} is too small for {spec.gan}: one iteration needs "
                f"{first} critic steps of {spec.batch_size} samples and one generator step"
            )


def plan_groups(specs: list[RunSpec], seed_batch: int) -> list[list[RunSpec]]:
    """Runs that differ only in seed, in chunks of at most ``seed_batch`` (image runs, whose
    DCGANs are plain modules, one at a time). Image groups come first: they are the longest,
    so a process pool finishes sooner when it starts them early."""
    groups = []
    ordered = sorted(specs, key=lambda s: (s.domain != "image", s.group_key, s.seed))
    for _, members in groupby(ordered, key=lambda s: s.group_key):
        members = list(members)
        size = 1 if members[0].domain == "image" else seed_batch
        groups.extend(members[i : i + size] for i in range(0, len(members), size))
    return groups


def preflight(specs: list[RunSpec], env: Environment) -> None:
    """Fail before anything is written when an image run cannot start: absent dataset files,
    missing or corrupt FID weights, a batch-norm critic under a gradient penalty."""
    image_specs = [s for s in specs if s.domain == "image"]
    for spec in image_specs:
        critic_norm_for(spec)
    for name in sorted({s.dataset for s in image_specs}):
        for train in (True, False):
            load_image_split(name, train, env, "cpu")
    if any(s.eval.fid_samples for s in image_specs):
        load_fid_inception(env.fid_weights, download=env.download)


def _train_group(
    specs: list[RunSpec], device: str, threads: int, index: int, progress_queue,
    env: Environment,
) -> list[RunResult]:
    """Worker entry point (top level, so it pickles for process pools)."""
    torch.set_num_threads(threads)
    report = None
    if progress_queue is not None:
        def report(fraction: float) -> None:
            progress_queue.put((index, fraction))
    return GroupTrainer(specs, torch.device(device), env).train(report)


@dataclass
class SuiteOutcome:
    root: Path
    ran: int = 0
    skipped: int = 0
    diverged: int = 0
    failures: list[str] = field(default_factory=list)


class _Progress:
    """A run-denominated progress bar fed with per-group budget fractions."""

    def __init__(self, groups: list[list[RunSpec]], enabled: bool) -> None:
        self.sizes = [len(g) for g in groups]
        self.fractions = [0.0] * len(groups)
        self.bar = tqdm(
            total=sum(self.sizes), unit="run", disable=not enabled, dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.1f}/{total} runs [{elapsed}<{remaining}]",
        )

    def update(self, index: int, fraction: float) -> None:
        self.fractions[index] = max(self.fractions[index], fraction)
        done = sum(s * f for s, f in zip(self.sizes, self.fractions, strict=True))
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def run_suite(
    config: SuiteConfig,
    out: Path,
    device_name: str = "auto",
    workers: int | None = None,
    show_progress: bool = True,
    env: Environment | None = None,
) -> SuiteOutcome:
    """Train every run of ``config`` not already finished in ``out``; returns a summary."""
    env = env or Environment()
    specs = expand(config)
    check_budgets(specs)
    device = resolve_device(device_name)
    preflight(specs, env)
    store = ResultsStore(out)
    store.init_suite(config)  # the first write: all input has been validated above
    finished = store.finished_run_ids()
    pending = [s for s in specs if s.run_id not in finished]
    outcome = SuiteOutcome(root=store.root, skipped=len(specs) - len(pending))
    groups = plan_groups(pending, config.seed_batch)
    provenance = collect(device)
    progress = _Progress(groups, show_progress)

    def store_results(results: list[RunResult]) -> None:
        for result in results:
            store.write_run(result, provenance)
            outcome.ran += 1
            outcome.diverged += result.status == "diverged"

    try:
        if device.type == "cuda" or (workers or 0) == 1 or len(groups) <= 1:
            _run_in_process(groups, str(device), progress, store_results, outcome, env)
        else:
            _run_in_pool(groups, workers or os.cpu_count() or 1, progress, store_results,
                         outcome, env)
    finally:
        progress.close()
    if config.diagnostics is not None:  # a separate, cheap experiment; skipped on resume
        run_critic_diagnostics(store.root / DIAGNOSTICS_DIR, device, config.diagnostics)
    return outcome


def _describe(group: list[RunSpec]) -> str:
    first = group[0]
    seeds = ",".join(str(s.seed) for s in group)
    return f"{first.dataset}/{first.gan}/{first.optimizer_label} seeds {seeds}"


def _run_in_process(groups, device, progress, store_results, outcome, env) -> None:
    threads = torch.get_num_threads()
    for index, group in enumerate(groups):
        try:
            results = _train_group(group, device, threads, index, None, env)
        except Exception:
            outcome.failures.append(f"{_describe(group)}:\n{traceback.format_exc()}")
            continue
        store_results(results)
        progress.update(index, 1.0)


def _run_in_pool(groups, workers, progress, store_results, outcome, env) -> None:
    workers = min(workers, len(groups))
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = mp.get_context("spawn")  # no fork: safe with threads and CUDA
    with context.Manager() as manager, cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        updates = manager.Queue()
        futures = {
            pool.submit(_train_group, group, "cpu", threads, index, updates, env): index
            for index, group in enumerate(groups)
        }
        remaining = set(futures)
        while remaining:
            done, remaining = cf.wait(remaining, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            _drain(updates, progress)
            for future in done:
                index = futures[future]
                try:
                    results = future.result()
                except Exception:
                    outcome.failures.append(f"{_describe(groups[index])}:\n"
                                            f"{traceback.format_exc()}")
                    continue
                store_results(results)
                progress.update(index, 1.0)


def _drain(updates, progress: _Progress) -> None:
    while True:
        try:
            index, fraction = updates.get_nowait()
        except queue.Empty:
            return
        progress.update(index, fraction)
