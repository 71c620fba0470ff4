"""The training loop for a group of runs trained as one batched model.

Members differ in seed and, for 2-D data, may differ in dataset and in continuous
hyperparameters (lr, Adam's betas, the clipping bound, the penalty weight): the optimizer and
the constraint then hold one value per member (``RunSpec.batch_key`` says what may differ).

One iteration is the phase schedule (``bench.training.schedule``): ``critic_steps_before(g)`` critic
steps, then one generator step, each one extrapolation and one update when the optimizers
extrapolate (extragradient, extrapolation from the past). Losses, penalties and divergence
flags accumulate on the device and are read only at evaluation checkpoints, so the hot loop
never waits for the device.
"""

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from bench.core.environment import Environment
from bench.core.outputs import (
    ADAM_COSINE,
    CRITIC_LOSS,
    CRITIC_STEPS,
    CRITIC_THROUGHPUT,
    EVAL_SECONDS,
    GENERATOR_LOSS,
    GRADIENT_EVALUATIONS,
    PENALTY,
    REAL_SAMPLES,
    SAMPLE_THROUGHPUT,
    THROUGHPUT,
    TRAIN_SECONDS,
)
from bench.core.results import DIVERGED, Counters, RunResult
from bench.core.specs import RunSpec
from bench.training.accel.iterations import IterationRunner
from bench.training.accel.policy import compile_network
from bench.training.accel.state import TrainingState
from bench.training.adam_cosine import ADAM_STEPS, adam_update_cosine
from bench.training.allocator import keep_freed_memory
from bench.training.checkpoint import decode_result, encode_result
from bench.training.evaluation import GENERATOR_PROTOCOL
from bench.training.schedule import (
    CRITIC,
    budget_fraction,
    count_iteration,
    next_iteration_fits,
    run_phases,
)
from bench.training.streams import MemberStreams
from bench.training.workload import build_group
from gan_zoo.critic_step import critic_gradient, critic_update

ProgressCallback = Callable[[float], None]
"""Receives the group's spent budget fraction, in [0, 1]."""

CheckpointCallback = Callable[[dict], None]
"""Receives ``GroupTrainer.state_dict()`` after each evaluation checkpoint and at the end."""

_PROGRESS_EVERY = 25  # iterations between progress callbacks (host-only, no sync)


class GroupTrainer:
    """Trains the K members of a group (``RunSpec.batch_key``) as one batched model."""

    def __init__(
        self, specs: list[RunSpec], device: torch.device, env: Environment | None = None
    ) -> None:
        keep_freed_memory()  # the iterations reuse what they free (bench/training/allocator.py)
        first = specs[0]
        parts = build_group(specs, device, env or Environment())
        self.specs = specs
        self.device = device
        self.k = len(specs)
        self.batch = first.batch_size
        self.budget = first.budget
        self.eval = first.eval
        self.loss, self.constraint, self.schedule = parts.loss, parts.constraint, parts.schedule
        self.accel, self.opt_g, self.opt_d = parts.accel, parts.opt_g, parts.opt_d
        self.fused = parts.fused
        workload = parts.workload
        self.member_state = workload.member_state
        self.dataset = workload.data
        self.generator, self.critic = workload.generator, workload.critic
        self.latent = workload.latent_dim
        self.evaluator = workload.evaluator
        self.streams = MemberStreams([s.seed for s in specs], device, purpose="train")
        # what the hot loop calls: the networks, or their torch.compile'd versions
        self.train_generator = (compile_network(self.generator)
                                if "generator" in self.accel.compile else self.generator)
        self.train_critic = (compile_network(self.critic)
                             if "critic" in self.accel.compile else self.critic)

        zeros = torch.zeros(self.k, device=device)
        self.sums = {CRITIC_LOSS: zeros.clone(), GENERATOR_LOSS: zeros.clone(),
                     PENALTY: zeros.clone()}
        if type(self.opt_d) in ADAM_STEPS:  # the WGAN paper's Adam diagnostic (issue 4): plain Adam
            self.sums[ADAM_COSINE] = zeros.clone()
        self.first_bad_step = torch.full((self.k,), -1, dtype=torch.long, device=device)
        self.step_tensor = torch.zeros((), dtype=torch.long, device=device)
        self._resumed: tuple | None = None
        """(results, counters, alive, window) loaded by ``resume_from``."""
        state = TrainingState([self.generator, self.critic], [self.opt_g, self.opt_d],
                              [*self.sums.values(), self.first_bad_step, self.step_tensor],
                              self.streams)
        self.run_iteration = IterationRunner(self.iteration, state, self.accel,
                                             self._uncompile, self.streams.generators)

    # --- one iteration --------------------------------------------------------------

    def _note_nonfinite(self, loss: Tensor) -> None:
        newly_bad = ~torch.isfinite(loss) & (self.first_bad_step < 0)
        # in place: a captured CUDA graph keeps writing to this tensor's address
        self.first_bad_step.copy_(torch.where(newly_bad, self.step_tensor, self.first_bad_step))

    def critic_gradient(self, record: bool = True) -> None:
        """One critic gradient evaluation on a fresh real batch (its loss and penalty summed
        when ``record``; extrapolations only check them for non-finite values)."""
        real = self.dataset.sample(self.streams, self.batch)
        latent = self.streams.randn((self.batch, self.latent))
        if self.fused is not None:  # the same gradients by hand (gan_zoo/fused_mlp.py)
            loss, penalty, total = self.fused.critic_gradient(
                self.loss.critic, self.constraint, real, self.fused.generate(latent),
                self.streams.rand)
        else:
            with torch.no_grad():
                fake = self.train_generator(latent)
            loss, penalty, total = critic_gradient(self.train_critic, self.loss.critic,
                                                   self.constraint, self.opt_d, real, fake,
                                                   self.streams.rand)
        if record:
            self.sums[CRITIC_LOSS] += loss.detach()
            if penalty is not None:
                self.sums[PENALTY] += penalty.detach()
        self._note_nonfinite(total.detach())

    def generator_gradient(self, record: bool = True) -> None:
        """One generator gradient evaluation (its loss summed when ``record``)."""
        latent = self.streams.randn((self.batch, self.latent))
        if self.fused is not None:
            loss = self.fused.generator_gradient(self.loss.generator, latent)
        else:
            self.critic.requires_grad_(False)  # no critic gradients needed here
            loss = self.loss.generator(self.train_critic(self.train_generator(latent)))
            self.opt_g.zero_grad(set_to_none=True)
            loss.sum().backward()
            self.critic.requires_grad_(True)
        if record:
            self.sums[GENERATOR_LOSS] += loss.detach()
        self._note_nonfinite(loss.detach())

    def critic_step(self, extrapolate: bool = False) -> None:
        """The critic optimizer's update (or extrapolation) from the gradients it holds, then
        the constraint's projection."""
        critic_update(self.critic, self.constraint, self.opt_d, extrapolate)
        if not extrapolate and ADAM_COSINE in self.sums:
            # read from Adam's state and the gradients, which clipping leaves as they were
            self.sums[ADAM_COSINE] += adam_update_cosine(self.opt_d, self.k)

    def generator_step(self, extrapolate: bool = False) -> None:
        """The generator optimizer's update (or extrapolation) from the gradients it holds."""
        self.opt_g.extrapolate() if extrapolate else self.opt_g.step()

    def _gradient(self, network: str, record: bool) -> None:
        (self.critic_gradient if network == CRITIC else self.generator_gradient)(record)

    def _network_step(self, network: str, extrapolate: bool) -> None:
        (self.critic_step if network == CRITIC else self.generator_step)(extrapolate)

    def iteration(self, n_critic: int) -> None:
        """The schedule's phases for ``n_critic`` critic steps (eager; see
        ``run_iteration``)."""
        run_phases(self.schedule.phases(n_critic), self._gradient, self._network_step)
        self.step_tensor += 1

    def _uncompile(self) -> None:
        self.train_generator, self.train_critic = self.generator, self.critic

    # --- the loop ---------------------------------------------------------------------

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def train(
        self, progress: ProgressCallback | None = None,
        on_checkpoint: CheckpointCallback | None = None,
    ) -> list[RunResult]:
        """Train to the budget; ``on_checkpoint`` gets the state to save (raising from it
        interrupts training; ``resume_from`` that state continues it)."""
        if self._resumed is None:
            results = [RunResult(spec, group_size=self.k) for spec in self.specs]
            counters = Counters()
            alive = np.ones(self.k, dtype=bool)
            window = {"critic": 0, "generator": 0}
            self._checkpoint(results, counters, alive, window)
        else:
            results, counters, alive, window = self._resumed
        iterations = 0
        segment_start = time.perf_counter()
        def spent() -> Counters:  # the counters with the running segment's time included
            return replace(counters, train_seconds=counters.train_seconds
                           + time.perf_counter() - segment_start)

        while alive.any():
            n_critic = self.schedule.critic_steps_before(counters.generator_steps)
            phases = self.schedule.phases(n_critic)
            if not next_iteration_fits(self.budget, spent(), phases, self.batch):
                break
            self.run_iteration(n_critic)
            count_iteration(counters, phases, self.batch)
            window["critic"] += n_critic
            window["generator"] += 1
            iterations += 1
            if self.eval.is_checkpoint(counters.generator_steps):
                self._sync()
                counters.train_seconds += time.perf_counter() - segment_start
                self._checkpoint(results, counters, alive, window)
                if on_checkpoint is not None:  # saving counts as neither training nor eval
                    on_checkpoint(self.state_dict(results, counters, alive, window))
                segment_start = time.perf_counter()
            if progress is not None and iterations % _PROGRESS_EVERY == 0:
                progress(budget_fraction(self.budget, spent()))
        if window["generator"]:  # steps since the last checkpoint: evaluate the end
            self._sync()
            counters.train_seconds += time.perf_counter() - segment_start
            self._checkpoint(results, counters, alive, window)
            if on_checkpoint is not None:
                on_checkpoint(self.state_dict(results, counters, alive, window))
        self._finish(results, counters, alive)
        if progress is not None:
            progress(1.0)
        return results

    # --- saving and resuming (bench/training/checkpoint.py writes the files) -------------------

    def state_dict(
        self, results: list[RunResult], counters: Counters, alive: np.ndarray, window: dict
    ) -> dict:
        """Everything the loop needs to continue exactly: networks, optimizers, every member
        stream (training and evaluation), device accumulators, counters and rows so far.
        Tensors and plain Python values only, so it loads with ``weights_only=True``."""
        return {
            "run_ids": [spec.run_id for spec in self.specs],
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "train_streams": self.streams.get_state(),
            "eval_streams": self.evaluator.streams.get_state(),
            "sums": dict(self.sums),
            "first_bad_step": self.first_bad_step,
            "step": self.step_tensor,
            "counters": dict(vars(counters)),
            "alive": torch.from_numpy(alive.copy()),
            "window": dict(window),
            "results": [encode_result(r.status, r.diverged_step, r.rows, r.images)
                        for r in results],
        }

    def resume_from(self, state: dict) -> None:
        """Load a ``state_dict``; ``train`` then continues after its checkpoint, producing
        what an uninterrupted run would (timings aside)."""
        run_ids = [spec.run_id for spec in self.specs]
        if list(state["run_ids"]) != run_ids:
            raise ValueError(f"state of runs {state['run_ids']}, not {run_ids}")
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.streams.set_state(state["train_streams"])
        self.evaluator.streams.set_state(state["eval_streams"])
        for name, value in state["sums"].items():
            self.sums[name].copy_(value)
        self.first_bad_step.copy_(state["first_bad_step"])
        self.step_tensor.copy_(state["step"])
        results = [RunResult(spec, group_size=self.k, **decode_result(encoded))
                   for spec, encoded in zip(self.specs, state["results"], strict=True)]
        alive = state["alive"].numpy().copy()
        self._resumed = (results, Counters(**state["counters"]), alive, dict(state["window"]))

    def _checkpoint(
        self, results: list[RunResult], counters: Counters, alive: np.ndarray, window: dict
    ) -> None:
        """Read the device accumulators, mark divergence, evaluate the living members."""
        start = time.perf_counter()
        bad = self.first_bad_step.cpu().numpy()
        sums = {name: value.cpu().numpy() for name, value in self.sums.items()}
        for member, result in enumerate(results):
            if alive[member] and bad[member] >= 0:
                alive[member] = False
                result.status = DIVERGED
                result.diverged_step = int(bad[member])
        metrics, nonfinite = self.evaluator.evaluate(self.generator, self.critic, alive)
        for member in nonfinite:
            alive[member] = False
            results[member].status = DIVERGED
            results[member].diverged_step = counters.generator_steps
        grids = self.evaluator.checkpoint_images(self.generator)
        for member, result in enumerate(results):
            if member not in metrics:
                continue
            if grids is not None:
                result.images[counters.generator_steps] = grids[member]
            values = dict(metrics[member])
            if window["critic"]:
                for name in (CRITIC_LOSS, PENALTY, ADAM_COSINE):
                    if name in sums:
                        values[name] = sums[name][member] / window["critic"]
            if window["generator"]:
                values[GENERATOR_LOSS] = sums[GENERATOR_LOSS][member] / window["generator"]
            values.update(self._counter_metrics(counters))
            step = counters.generator_steps
            result.rows.extend(
                {"step": step, "metric": name, "value": float(v)} for name, v in values.items()
            )
        for value in self.sums.values():
            value.zero_()
        window["critic"] = window["generator"] = 0
        counters.eval_seconds += time.perf_counter() - start

    def _counter_metrics(self, counters: Counters) -> dict[str, float]:
        seconds = counters.train_seconds
        out = {
            CRITIC_STEPS: counters.critic_steps,
            REAL_SAMPLES: counters.real_samples,
            GRADIENT_EVALUATIONS: counters.gradient_evaluations,
            TRAIN_SECONDS: seconds,
            EVAL_SECONDS: counters.eval_seconds,
        }
        if seconds > 0:
            out[THROUGHPUT] = counters.generator_steps / seconds
            out[CRITIC_THROUGHPUT] = counters.critic_steps / seconds
            out[SAMPLE_THROUGHPUT] = counters.real_samples / seconds
        return out

    def _finish(self, results: list[RunResult], counters: Counters, alive: np.ndarray) -> None:
        snapshots = self.evaluator.snapshot(self.generator, self.critic)
        for member, result in enumerate(results):
            result.counters = replace(counters)
            result.acceleration = self.accel.to_dict()
            result.evaluation = {"generator": GENERATOR_PROTOCOL,
                                 "metrics": self.evaluator.protocols(member)}
            if alive[member]:
                result.samples = snapshots[member]
            result.state = self.member_state(member)
