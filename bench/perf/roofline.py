"""``run_bench.py perf --roofline``: how close each GAN's training iteration comes to this
machine's matrix-product peak, and where the rest of its time goes.

For every GAN, member count K and MLP width (the suite's toy configuration: ring8, its recipe's
optimizer, 3 hidden layers, batch 256):

- **FLOPs** of one full iteration of the production trainer (``GroupTrainer.iteration``: its
  critic steps with the penalty's double backward, the generator step, the optimizers),
  counted by ``torch.utils.flop_counter.FlopCounterMode`` (matrix products, which is all the
  FLOPs a roofline counts);
- **time** of the same iteration through ``GroupTrainer.run_iteration`` (what training runs,
  speed-ups included), after one untimed warm-up iteration, repeated for ``min_seconds``:
  achieved FLOP/s;
- **peak**: the best rate of the batched products one hidden layer runs (forward
  ``baddbmm``, the input gradient and the weight gradient, [K, B, W] x [K, W, W] shapes,
  float32), with one thread and with all threads;
- **where the rest goes** (``torch.profiler`` over one more iteration): matrix-product
  kernels, the optimizer steps, other kernels split into a per-call floor (the cost of an
  empty op times the calls: kernel overhead of many small ops) and the remainder (memory
  traffic of element-wise work), and the time outside any op (Python, autograd bookkeeping,
  launches on a GPU).
"""

import contextlib
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.environment import resolve_device
from bench.core.specs import RunSpec
from bench.perf.options import RooflineOptions
from bench.perf.side_by_side import machine_info
from bench.perf.timing import sync, timed
from bench.training.trainer import GroupTrainer
from gan_zoo.registry import GANS

BATCH = 256
DEPTH = 3
MATMUL_OPS = frozenset({"aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm",
                        "aten::addbmm", "aten::_addmm_activation"})
"""Ops whose own time is a matrix-product kernel (their callers' time is dispatch)."""
OPTIMIZER_PREFIX = "Optimizer.step"
"""torch.optim's record_function name for a step (``Optimizer.step#Adam.step``)."""


def roofline_specs(gan: str, members: int, width: int) -> list[RunSpec]:
    """K members of ``gan`` on ring8 at its recipe's optimizer, 3 x ``width`` MLPs."""
    raw = {
        "name": "perf-roofline", "description": "one group per case, for perf --roofline",
        "datasets": ["ring8"], "gans": [gan], "optimizers": ["recipe"], "seeds": members,
        "budget": {"generator_steps": 1}, "batch_size": BATCH,
        "model": {"width": width, "depth": DEPTH, "latent_dim": 2},
        "eval": {"every": 1, "samples": 100, "w1_samples": 50, "critic_samples": 100},
        "group_size": members,
    }
    return expand(parse_suite(raw, "perf --roofline"))


class _GlobalOnly:
    """Stands in for FlopCounterMode's ModuleTracker, whose module hooks make the penalty's
    ``autograd.grad`` raise ("A leaf node was passed to _will_engine_execute_node",
    pytorch/pytorch#131753): every count goes to the total, none per module."""

    parents = frozenset({"Global"})

    def __enter__(self) -> "_GlobalOnly":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs ``fn`` runs, as ``torch.utils.flop_counter.FlopCounterMode`` counts them."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _GlobalOnly()
    with counter:
        fn()
    return counter.get_total_flops()


def _repeat_rate(fn: Callable[[], object], device: torch.device, min_seconds: float) -> float:
    """Seconds per call of ``fn`` after one warm-up call, repeated until ``min_seconds``
    (at least twice)."""
    fn()  # warm-up: allocations, kernel selection
    calls, seconds = 0, 0.0
    while calls < 2 or seconds < min_seconds:
        elapsed, _ = timed(fn, device)
        calls, seconds = calls + 1, seconds + elapsed
    return seconds / calls


def matmul_peak(members: int, width: int, device: torch.device, threads: int,
                min_seconds: float) -> float:
    """FLOP/s of the fastest batched product of one hidden layer (forward, input gradient,
    weight gradient) at the suite's shapes, with ``threads`` torch threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator(device).manual_seed(0)
        x = torch.randn(members, BATCH, width, device=device, generator=gen)
        w = torch.randn(members, width, width, device=device, generator=gen)
        bias = torch.randn(members, 1, width, device=device, generator=gen)
        shapes = [lambda: torch.baddbmm(bias, x, w),          # forward
                  lambda: torch.bmm(x, w.transpose(1, 2)),    # input gradient
                  lambda: torch.bmm(x.transpose(1, 2), x)]    # weight gradient
        flops = 2 * members * BATCH * width * width
        return max(flops / _repeat_rate(fn, device, min_seconds) for fn in shapes)
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _quiet_profiler() -> Iterator[None]:
    """``torch.profiler`` with the native library's own stderr lines muted (Kineto prints
    "profiler_start" / "profiler_stop", and "gpuGetDeviceCount failed" on a machine without
    a GPU, straight to file descriptor 2: noise beside a table, not an error)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _empty_op_seconds() -> float:
    """Self time the profiler records for one op on a one-element tensor: the floor any op
    pays (dispatch, allocation), so calls x floor is the cost of the calls themselves."""
    x = torch.zeros(1)
    with _quiet_profiler(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(200):
            x = x + 1
    calls = [e for e in prof.events() if e.name == "aten::add"]
    return sum(e.self_cpu_time_total for e in calls) / len(calls) / 1e6


@dataclass(frozen=True)
class TimeSplit:
    """Where one iteration's wall time goes (seconds; they add up to ``wall``)."""

    wall: float
    matmul: float
    """Matrix-product kernels (outside the optimizer)."""
    optimizer: float
    """Everything inside the optimizers' ``step``."""
    op_overhead: float
    """Other ops' calls x the cost of an empty op: many small ops."""
    memory: float
    """The rest of those ops' time: element-wise work streaming memory."""
    outside_ops: float
    """Time in no op: Python, autograd bookkeeping (and launches on a GPU)."""
    op_calls: int


def _in_optimizer(event) -> bool:
    while event is not None:
        if event.name.startswith(OPTIMIZER_PREFIX):
            return True
        event = event.cpu_parent
    return False


def time_split(iteration: Callable[[], None], device: torch.device,
               empty_op: float) -> TimeSplit:
    """Profile one ``iteration`` and split its wall time (see ``TimeSplit``). On a GPU the
    kernels' device time is split and the host-only time is what the device sat idle."""
    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with _quiet_profiler(), profile(activities=activities) as prof:
        sync(device)
        start = time.perf_counter()
        iteration()
        sync(device)
        wall = time.perf_counter() - start
    matmul = optimizer = other = 0.0
    calls = 0
    for event in prof.events():
        own = (event.self_device_time_total if cuda else event.self_cpu_time_total) / 1e6
        if event.name.startswith(OPTIMIZER_PREFIX):
            optimizer += (event.device_time_total if cuda else event.cpu_time_total) / 1e6
        elif _in_optimizer(event.cpu_parent) or not event.name.startswith("aten::"):
            continue
        elif event.name in MATMUL_OPS:
            matmul += own
        else:
            other += own
            calls += 1
    overhead = 0.0 if cuda else min(other, calls * empty_op)
    outside = max(0.0, wall - matmul - optimizer - other)
    return TimeSplit(wall, matmul, optimizer, overhead, other - overhead, outside, calls)


@dataclass(frozen=True)
class RooflineCase:
    gan: str
    members: int
    width: int
    critic_steps: int
    """Critic steps in the measured iteration."""
    flops: int
    """Of one iteration (all members), FlopCounterMode's count."""
    seconds: float
    """One iteration: the mean over timed iterations (``MIN_SECONDS`` at least)."""
    peak_one_thread: float
    peak_all_threads: float
    """FLOP/s of the layer's batched products (``matmul_peak``)."""
    threads: int
    """Threads the iteration ran with; the fraction is against the peak at this count."""
    split: TimeSplit

    @property
    def achieved(self) -> float:
        return self.flops / self.seconds

    @property
    def peak(self) -> float:
        return self.peak_one_thread if self.threads == 1 else self.peak_all_threads

    @property
    def fraction(self) -> float:
        return self.achieved / self.peak

    def to_dict(self) -> dict:
        return asdict(self) | {"achieved_flops_per_s": self.achieved,
                               "peak_flops_per_s": self.peak, "fraction_of_peak": self.fraction}


def measure_case(gan: str, members: int, width: int, device: torch.device,
                 peaks: tuple[float, float], empty_op: float, min_seconds: float) -> RooflineCase:
    """FLOPs, time and time split of one iteration of ``gan`` with K = ``members``."""
    trainer = GroupTrainer(roofline_specs(gan, members, width), device)
    n_critic = trainer.schedule.critic_steps_before(0)
    flops = count_flops(lambda: trainer.iteration(n_critic))
    seconds = _repeat_rate(lambda: trainer.run_iteration(n_critic), device, min_seconds)
    split = time_split(lambda: trainer.run_iteration(n_critic), device, empty_op)
    return RooflineCase(gan, members, width, n_critic, flops, seconds,
                        *peaks, torch.get_num_threads(), split)


@dataclass(frozen=True)
class Roofline:
    machine: dict
    """Provenance, threads and load averages (``side_by_side.machine_info``)."""
    empty_op_seconds: float
    cases: list[RooflineCase]

    def to_dict(self) -> dict:
        return {"machine": self.machine, "empty_op_seconds": self.empty_op_seconds,
                "cases": [c.to_dict() for c in self.cases]}


def run_roofline(options: RooflineOptions,
                 progress: Callable[[str], None] | None = None) -> Roofline:
    """Every GAN at every (K, width) of ``options`` on its device, iterations with its torch
    threads; each timing repeats for ``options.min_seconds`` at least. ``progress`` hears each
    (K, width) as it starts."""
    say = progress or (lambda _: None)
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    device = resolve_device(options.device)
    min_seconds = options.min_seconds
    all_threads = (os.cpu_count() or 1) if device.type == "cpu" else torch.get_num_threads()
    machine = machine_info(device)
    empty_op = _empty_op_seconds()
    cases = []
    for width in options.widths:
        for k in options.members:
            say(f"K={k}, width {width}: the matmul peak, then {', '.join(GANS)}")
            peaks = (matmul_peak(k, width, device, 1, min_seconds),
                     matmul_peak(k, width, device, all_threads, min_seconds))
            cases.extend(measure_case(gan, k, width, device, peaks, empty_op, min_seconds)
                         for gan in GANS)
    return Roofline(machine | {"load_average_1m_end": os.getloadavg()[0]}, empty_op, cases)


def format_roofline(result: Roofline) -> str:
    """One line per case: achieved and peak GFLOP/s, the fraction, and the time split."""
    lines = [
        f"Roofline on {result.machine['device']}, {result.machine['threads']} threads "
        "(GFLOP/s; the split of one iteration's wall time in %)",
        f"{'gan':10} {'K':>3} {'width':>5} {'GFLOP':>8} {'ms':>8} {'achieved':>8} "
        f"{'peak':>7} {'peak 1t':>7} {'frac':>5}  matmul optim   ovh   mem outside",
    ]
    for c in result.cases:
        s = c.split
        shares = [100 * v / s.wall for v in (s.matmul, s.optimizer, s.op_overhead, s.memory,
                                             s.outside_ops)]
        lines.append(
            f"{c.gan:10} {c.members:3d} {c.width:5d} {c.flops / 1e9:8.2f} "
            f"{1e3 * c.seconds:8.1f} {c.achieved / 1e9:8.2f} {c.peak_all_threads / 1e9:7.2f} "
            f"{c.peak_one_thread / 1e9:7.2f} {100 * c.fraction:4.0f}%  "
            + " ".join(f"{p:5.0f}" for p in shares))
    lines += textwrap.wrap(
        "peak: the best rate of one hidden layer's batched products (forward, input and weight "
        "gradients) at this K and width with all threads; peak 1t: with one thread (small "
        "products do not split across threads, so it can be the higher); frac: achieved / "
        "the peak at the threads the iteration ran with.", 100)
    lines += textwrap.wrap(
        "matmul, optim, ovh, mem, outside: the iteration's wall time in matrix products, the "
        "optimizer, other ops' per-call overhead (calls x an empty op's cost), the rest of "
        "those ops (element-wise work streaming memory), and no op at all (Python, "
        "autograd's bookkeeping).", 100)
    return "\n".join(lines)
