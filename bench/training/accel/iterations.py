"""Runs training iterations eagerly, through torch.compile, or as replays of captured CUDA
graphs, falling back to eager PyTorch whenever a speed-up fails.

- torch.compile: the first iteration with compiled networks is the probe. If it raises (an
  unsupported operation, no C++ compiler), the state saved before it is restored, the networks
  go back to eager and the iteration runs again eagerly, so the run continues as if it had
  never been compiled.
- CUDA graphs: after a few eager warm-up iterations on a side stream (lazy initialisation of
  cuBLAS, autograd and the optimizers' state must not happen inside a capture), one whole
  iteration (its critic steps with the penalty's double backward, the generator step, both
  optimizer steps, the device accumulators and every member's random stream) is captured per
  critic-step count. The capture is checked once: the iteration runs eagerly, the state is
  rolled back, the graph replays the same iteration, and the two outcomes must agree. A
  failed capture or a disagreement keeps the eager outcome and trains eagerly from there on.
"""

import warnings
from collections.abc import Callable

import torch

from bench.training.accel.policy import AccelPlan
from bench.training.accel.state import TrainingState

WARMUP_ITERATIONS = 3
"""Eager iterations before the first capture."""
REPLAY_TOLERANCE = 1e-5
"""Largest relative difference allowed between a replay and the eager iteration it stands
for; both run the same kernels, so they normally agree exactly."""


class IterationRunner:
    """Calls ``iteration(n_critic)`` the fastest way that works; updates ``plan`` with what
    it falls back from and why."""

    def __init__(
        self, iteration: Callable[[int], None], state: TrainingState, plan: AccelPlan,
        uncompile: Callable[[], None], generators: list[torch.Generator],
    ) -> None:
        self.iteration = iteration
        self.state = state
        self.plan = plan
        self.uncompile = uncompile
        self.generators = generators
        self._compile_checked = False
        self._eager_iterations = 0
        self._graphs: dict[int, torch.cuda.CUDAGraph] = {}

    @property
    def captured(self) -> list[int]:
        """The critic-step counts whose iterations replay as CUDA graphs."""
        return sorted(self._graphs)

    def __call__(self, n_critic: int) -> None:
        if self.plan.compile and not self._compile_checked:
            self._first_compiled(n_critic)
        elif not self.plan.cuda_graphs:
            self.iteration(n_critic)
        elif n_critic in self._graphs:
            self._graphs[n_critic].replay()
        elif self._eager_iterations < WARMUP_ITERATIONS:
            self._eager(n_critic)
        else:
            self._capture(n_critic)

    def _fall_back(self, note: str) -> None:
        self.plan.notes.append(note)
        warnings.warn(note, stacklevel=3)

    def _eager(self, n_critic: int) -> None:
        self._eager_iterations += 1
        if not self.plan.cuda_graphs:
            self.iteration(n_critic)
            return
        # warm-up before a capture runs on a side stream, as torch's CUDA graph notes ask
        current = torch.cuda.current_stream()
        side = torch.cuda.Stream()
        side.wait_stream(current)
        with torch.cuda.stream(side):
            self.iteration(n_critic)
        current.wait_stream(side)

    def _first_compiled(self, n_critic: int) -> None:
        self._compile_checked = True
        saved = self.state.save()
        try:
            self._eager(n_critic)
        except Exception as exc:  # noqa: BLE001 - any compiler failure means: run eagerly
            self.state.restore(saved)
            self.uncompile()
            self._fall_back(f"torch.compile of {'+'.join(self.plan.compile)} failed "
                            f"({type(exc).__name__}: {_first_line(exc)}); trained eagerly")
            self.plan.compile = ()
            self._eager(n_critic)

    def _capture(self, n_critic: int) -> None:
        before = self.state.save()
        self.iteration(n_critic)
        expected = self.state.save()
        self.state.restore(before)
        try:
            graph = torch.cuda.CUDAGraph()
            for generator in self.generators:
                graph.register_generator_state(generator)
            with torch.cuda.graph(graph):
                self.iteration(n_critic)
            self.state.restore(before)  # capturing runs nothing, but be sure
            graph.replay()
        except Exception as exc:  # noqa: BLE001 - any capture failure means: run eagerly
            self.state.restore(expected)
            self.plan.cuda_graphs = False
            self._fall_back(f"CUDA graph capture failed ({type(exc).__name__}: "
                            f"{_first_line(exc)}); trained eagerly")
            return
        difference = TrainingState.max_difference(expected, self.state.save())
        if difference > REPLAY_TOLERANCE:
            self.state.restore(expected)
            self.plan.cuda_graphs = False
            self._fall_back(f"CUDA graph replay differed from the eager iteration (relative "
                            f"{difference:.2g} > {REPLAY_TOLERANCE:g}); trained eagerly")
            return
        self._graphs[n_critic] = graph


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"
