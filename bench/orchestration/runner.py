"""Runs a suite: plan (validate everything), execute groups, store results, build the report.

Groups of runs that differ only in seed train together (seed batching). An executor
(``bench/executors``: local processes or a Ray cluster) trains them and streams each group's
results back; the driver alone writes the results store, as each group finishes. The suite
folder is locked while a driver runs, groups checkpoint as they train, and a rerun on the same
folder skips finished runs and continues unfinished groups from their checkpoints. A suite's
side experiments (``SIDE_EXPERIMENTS``) run beside the first groups.
"""

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from bench.analysis.study import best_trial_params
from bench.config.expansion import expand, expand_reruns
from bench.config.plugins import loaded_plugins
from bench.config.suite_config import SuiteConfig
from bench.core.environment import Environment
from bench.core.errors import BenchError
from bench.core.results import DIVERGED, Counters, RunResult
from bench.core.specs import RunSpec
from bench.data import IMAGE
from bench.experiments.critic_diagnostics import run_critic_diagnostics
from bench.experiments.parallel_lines import run_parallel_lines
from bench.experiments.random_architectures import (
    experiment_recipe,
    run_random_architectures,
)
from bench.experiments.two_gaussians import run_two_gaussians
from bench.features.fid_inception import load_fid_inception
from bench.orchestration.executor_choices import CONNECT_TIMEOUT, LOCAL
from bench.orchestration.executors import ExperimentTask, GroupTask, make_executor
from bench.report.summary import build_summary
from bench.storage.critic_outputs import DIAGNOSTICS_DIR
from bench.storage.experiment_outputs import EXPERIMENTS_DIR
from bench.storage.lock import SuiteLock
from bench.storage.provenance import collect
from bench.storage.store import SUITE_FILE, ResultsStore, check_results_folder
from bench.training.checkpoint import (
    checkpoint_path,
    discard_checkpoint,
    discard_partial_checkpoints,
)
from bench.training.resources import check_resources
from bench.training.schedule import gradient_evaluations, next_iteration_fits, schedule_for
from bench.training.workload import critic_norm_for, load_image_split
from gan_zoo.recipes import batches_members
from gan_zoo.registry import GANS, get_gan


@dataclass(frozen=True)
class SideExperiment:
    """A seeded experiment a suite runs beside its training, from its own settings."""

    name: str
    settings: Callable[[SuiteConfig], Any]
    """The suite's settings of it; None where the suite leaves it out."""
    run: Callable[[Path, torch.device, Any], bool]
    """``run(out_dir, device, settings)``, writing its files once (skipped on resume)."""
    folder: str
    """Its folder in the results folder."""


SIDE_EXPERIMENTS = (
    SideExperiment("diagnostics", attrgetter("diagnostics"), run_critic_diagnostics,
                   DIAGNOSTICS_DIR),
    SideExperiment("parallel_lines", attrgetter("parallel_lines"), run_parallel_lines,
                   EXPERIMENTS_DIR),
    SideExperiment("two_gaussians", attrgetter("two_gaussians"), run_two_gaussians,
                   EXPERIMENTS_DIR),
)
"""Every side experiment, one entry each."""


def side_experiments(config: SuiteConfig, root: Path) -> list[ExperimentTask]:
    """The side experiments ``config`` asks for, as tasks writing under ``root``."""
    return [ExperimentTask(e.name, e.run, root / e.folder, settings)
            for e in SIDE_EXPERIMENTS if (settings := e.settings(config)) is not None]


def check_budgets(specs: list[RunSpec]) -> None:
    """Every run must afford at least one full iteration of its schedule."""
    for spec in specs:
        schedule = schedule_for(spec)
        first = schedule.critic_steps_before(0)
        phases = schedule.phases(first)
        if not next_iteration_fits(spec.budget, Counters(), phases, spec.batch_size):
            raise BenchError(
                f"budget {spec.budget} is too small for {spec.gan}: one iteration needs "
                f"{first} critic steps of {spec.batch_size} samples and one generator step "
                f"({gradient_evaluations(phases)} gradient evaluations with "
                f"{spec.optimizer.name})"
            )


def plan_groups(specs: list[RunSpec], group_size: int) -> list[list[RunSpec]]:
    """Runs that can train as one batched model (``RunSpec.batch_key``: seeds, trials'
    continuous hyperparameters and 2-D datasets differ per member), in chunks of at most
    ``group_size`` (image runs, whose DCGANs are plain modules, and runs of a plugin's
    optimizer not declared element-wise, one at a time). Image groups
    come first: they are the longest, so a process pool finishes sooner when it starts them
    early. The plan depends on the specs alone, so a resumed suite finds the same groups."""
    def key(spec: RunSpec) -> str:
        return repr(spec.batch_key)

    groups = []
    ordered = sorted(specs, key=lambda s: (s.domain != IMAGE, key(s), s.run_id))
    for _, members in groupby(ordered, key=key):
        members = list(members)
        alone = members[0].domain == IMAGE or not batches_members(members[0].optimizer.name)
        size = 1 if alone else group_size
        groups.extend(members[i : i + size] for i in range(0, len(members), size))
    return groups


def preflight(specs: list[RunSpec], env: Environment) -> None:
    """Fail before anything is written when an image run cannot start: absent dataset files,
    missing or corrupt FID weights, a batch-norm critic under a gradient penalty."""
    image_specs = [s for s in specs if s.domain == IMAGE]
    for spec in image_specs:
        critic_norm_for(spec, get_gan(spec.gan).make_constraint(spec.recipe))
    for name in sorted({s.dataset for s in image_specs}):
        for train in (True, False):
            load_image_split(name, train, env, "cpu")
    if any(s.eval.fid_samples for s in image_specs):
        load_fid_inception(env.fid_weights, download=env.download)


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
    executor: str = LOCAL,
    address: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> SuiteOutcome:
    """Train every run of ``config`` not already finished in ``out``; returns a summary.

    ``out`` is locked for the whole call (a second driver gets a BenchError). Finished runs,
    diverged ones included, are never trained again; unfinished groups continue from their
    checkpoints. ``executor`` is ``local`` or ``ray`` (at ``address``, else a local instance,
    waiting at most ``connect_timeout`` seconds for the cluster to answer). Everything that
    can be known to fail is refused before the first write.
    """
    env = env or Environment()
    check_results_folder(Path(out))
    specs = expand(config)
    check_budgets(specs)
    if (Path(out) / SUITE_FILE).is_file():  # a folder to resume: nothing damaged is trusted
        ResultsStore(out).verify()
    ResultsStore(out).check_finished_runs_match(specs)
    if env.cuda_graphs == "on" and device_name != "cuda":
        raise BenchError("--cuda-graphs on captures CUDA graphs, so it needs --device cuda; "
                         "use --cuda-graphs auto to capture whenever the suite trains on CUDA")
    engine = make_executor(executor, device_name, workers, address, connect_timeout)
    preflight(specs, env)
    all_groups = plan_groups(specs, config.group_size)
    if executor == LOCAL:  # a Ray cluster's nodes are not this machine
        check_resources(all_groups, engine.device)
    with engine, SuiteLock(out):  # connecting to a cluster can fail: before the lock's write
        store = ResultsStore(out)
        store.init_suite(config)  # the first write: all input has been validated above
        store.discard_partial_runs()  # left by a driver killed while writing a run
        discard_partial_checkpoints(store.root)
        finished = store.finished_run_ids()
        outcome = SuiteOutcome(root=store.root, skipped=len(finished))
        provenance = collect(engine.device) | {"environment": env.to_dict()}
        _train(engine, store, all_groups, env, provenance, outcome, show_progress,
               side_experiments(config, store.root))
        if config.search is not None and not outcome.failures:
            # a study's second phase: each cell's best trial, chosen from the stored trials
            best = best_trial_params(build_summary(store), config)
            reruns = plan_groups(expand_reruns(config, best), config.group_size)
            _train(engine, store, reruns, env, provenance, outcome, show_progress)
        if (spec := config.random_architectures) is not None:
            # not a side experiment: a pool of its own over every core, after the groups
            run_random_architectures(
                store.root / EXPERIMENTS_DIR, engine.device, spec,
                {gan: experiment_recipe(config.recipe(gan, spec.dataset), gan, spec)
                 for gan in GANS},
                workers or os.cpu_count() or 1)
    return outcome


def _train(engine, store: ResultsStore, groups: list[list[RunSpec]], env: Environment,
           provenance: dict, outcome: SuiteOutcome, show_progress: bool,
           experiments: Sequence[ExperimentTask] = ()) -> None:
    """Train the groups with runs not yet stored, writing each run as its group finishes,
    and run ``experiments`` beside them (each skipped where its files are there).

    A group with some runs stored (its driver died while writing them) trains again, from
    its final checkpoint, and only its missing runs are written."""
    finished = store.finished_run_ids()
    groups = [g for g in groups if any(s.run_id not in finished for s in g)]
    if not groups and not experiments:
        return
    tasks = [GroupTask(i, tuple(g), checkpoint_path(store.root, g), env, loaded_plugins())
             for i, g in enumerate(groups)]
    progress = _Progress(groups, show_progress)
    driver = _Driver(store, provenance, finished, progress, outcome)
    try:
        engine.run(tasks, driver, experiments)
    finally:
        progress.close()


class _Driver:
    """Receives the executor's events and writes the results store: its only writer."""

    def __init__(self, store: ResultsStore, provenance: dict, finished: set[str],
                 progress: _Progress, outcome: SuiteOutcome) -> None:
        self.store = store
        self.provenance = provenance
        self.stored = set(finished)
        self.bar = progress
        self.outcome = outcome

    def finished(self, task: GroupTask, results: list[RunResult]) -> None:
        for result in results:
            if result.spec.run_id in self.stored:  # written before an interruption
                continue
            self.store.write_run(result, self.provenance)
            self.stored.add(result.spec.run_id)
            self.outcome.ran += 1
            self.outcome.diverged += result.status == DIVERGED
        discard_checkpoint(task.checkpoint)  # only now: every run of the group is stored
        self.bar.update(task.index, 1.0)

    def failed(self, task: GroupTask | ExperimentTask, message: str) -> None:
        self.outcome.failures.append(f"{task.describe()}:\n{message}")

    def progress(self, index: int, fraction: float) -> None:
        self.bar.update(index, fraction)
