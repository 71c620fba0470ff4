"""``run_bench.py perf --study``: trials batched as one model against the same trials as
separate seed-batched groups, timed side by side in one process.

One WGAN-GP cell on ring8 searches ``trials`` settings of (lr, beta1, gp_weight) drawn from
the space below, each on ``seeds`` seeds: the suite trains them as ONE group whose members
each have their own hyperparameters (``bench.training.member_optimizers``, per-member penalty
weights), or, without trial batching, as one seed-batched group per trial. Both run the same
generator steps with the same schedule; each side is timed by its own ``train_seconds`` (evaluation
excluded), and the report gives the aggregate generator steps per second of each and their
ratio.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.environment import resolve_device
from bench.core.outputs import TRAIN_SECONDS
from bench.core.results import RunResult
from bench.core.specs import RunSpec
from bench.perf.options import StudyOptions
from bench.perf.side_by_side import REFERENCE
from bench.training.trainer import GroupTrainer

SPACE = {"lr": {"log_uniform": [1e-5, 1e-3]}, "beta1": {"uniform": [0.0, 0.9]},
         "gp_weight": {"log_uniform": [0.01, 10.0]}}
"""Continuous fields only: a discrete one (n_critic) would split the batched group."""


@dataclass(frozen=True)
class StudyTiming:
    trials: int
    seeds: int
    width: int
    steps: int
    """Timed generator steps per run (after ``warmup``)."""
    batched_seconds: float
    """One group of trials x seeds members."""
    separate_seconds: float
    """``trials`` groups of ``seeds`` members, one after another."""
    threads: int
    """torch intra-op threads both ways ran with."""

    @property
    def runs(self) -> int:
        return self.trials * self.seeds

    @property
    def batched_steps_per_s(self) -> float:
        return self.runs * self.steps / self.batched_seconds

    @property
    def separate_steps_per_s(self) -> float:
        return self.runs * self.steps / self.separate_seconds

    @property
    def speedup(self) -> float:
        return self.separate_seconds / self.batched_seconds

    def to_dict(self) -> dict:
        return asdict(self) | {"batched_steps_per_s": self.batched_steps_per_s,
                               "separate_steps_per_s": self.separate_steps_per_s,
                               "speedup": self.speedup}


def study_trials(trials: int, seeds: int, width: int, steps: int, every: int) -> list[RunSpec]:
    """The trials of one WGAN-GP cell (the reference's configuration, width aside)."""
    raw = {
        "name": "perf-study",
        "description": "one WGAN-GP cell's trials, for run_bench.py perf --study",
        "datasets": ["ring8"], "gans": ["wgan-gp"],
        "optimizers": [{"name": "adam", "lr": REFERENCE.lr, "betas": list(REFERENCE.betas)}],
        "seeds": seeds, "budget": {"generator_steps": steps},
        "batch_size": REFERENCE.batch_size, "model": {"width": width, "depth": 3},
        "eval": {"every": every, "samples": 100, "w1_samples": 50, "critic_samples": 100},
        "recipes": {"wgan-gp": {"n_critic": REFERENCE.critic_iters, "warmup": False}},
        "group_size": trials * seeds,
        "search": {"trials": trials, "space": SPACE},
    }
    return [s for s in expand(parse_suite(raw, "perf --study")) if s.study.trial is not None]


def _train_seconds(results: list[RunResult], warmup: int, total: int) -> float:
    """The group's training seconds between the warm-up's checkpoint and the end."""
    seconds = {r["step"]: r["value"] for r in results[0].rows if r["metric"] == TRAIN_SECONDS}
    return seconds[total] - seconds[warmup]


def time_study(options: StudyOptions,
               progress: Callable[[str], None] | None = None) -> StudyTiming:
    """Both ways of training the same trials, each timed after ``options.warmup`` generator
    steps; ``progress`` hears each training as it starts."""
    say = progress or (lambda _: None)
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    device = resolve_device(options.device)
    trials, seeds, width, steps = options.trials, options.seeds, options.width, options.steps
    warmup = options.warmup
    total = warmup + steps
    specs = study_trials(trials, seeds, width, total, every=warmup)
    say(f"{trials} trials x {seeds} seeds as one group")
    batched = _train_seconds(GroupTrainer(specs, device).train(), warmup, total)
    separate = 0.0
    for trial in range(trials):
        say(f"trial {trial + 1}/{trials} as a group of its own")
        members = [s for s in specs if s.study.trial == trial]
        separate += _train_seconds(GroupTrainer(members, device).train(), warmup, total)
    return StudyTiming(trials, seeds, width, steps, batched, separate,
                       torch.get_num_threads())


def format_study(t: StudyTiming, device: torch.device | str) -> str:
    return "\n".join([
        f"Trial batching on {device}: one WGAN-GP cell, {t.trials} trials x {t.seeds} seeds, "
        f"3 x {t.width} MLPs, {t.steps} timed generator steps per run, {t.threads} threads",
        f"  one group of {t.runs} members   {t.batched_seconds:8.2f} s  "
        f"{t.batched_steps_per_s:8.1f} gen steps/s (aggregate)",
        f"  {t.trials} groups of {t.seeds} members   {t.separate_seconds:8.2f} s  "
        f"{t.separate_steps_per_s:8.1f} gen steps/s (aggregate)",
        f"  trial batching is {t.speedup:.2f}x faster",
    ])
