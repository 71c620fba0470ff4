"""Preflight estimates: will a suite's tensors fit the device, and will its exact transports
finish? Both are refused before anything is written, with the numbers behind the refusal.

Memory is estimated per group from what a step keeps alive: activations of both networks for
the training batch (forward, backward and the penalty's double backward), the evaluation
sample tensors and exact OT's N x N cost matrix (an image dataset is sized when preflight
loads it). The estimates are deliberately generous upper bounds: they exist to refuse what
cannot fit (a batch of 10^8), not to pack a device tightly.
"""

import os
from dataclasses import dataclass

import torch
from torch import nn

from bench.core.errors import BenchError
from bench.core.specs import RunSpec
from bench.data import get_dataset
from gan_zoo.architectures.dcgan import build_image_models

FLOAT_BYTES = 4
TRAIN_FACTOR = 12
"""Stored activations and their gradients per forward activation of a training step: the
critic sees real, fake and (with a penalty) interpolated samples, and the penalty's double
backward keeps a second graph."""
OT_BYTES_PER_PAIR = 32
"""Exact OT (POT's network simplex) on N x N: the float64 cost matrix plus the solver's own
N x N arrays."""
OT_SECONDS_AT_1000 = 0.19
OT_EXPONENT = 2.15
"""One exact W1 solve takes about 0.19 s at N = 1,000 on a 2-core CPU and grows as N^2.15
(measured for N = 500 to 4,000)."""
MAX_OT_SAMPLES = 20_000
"""Above this, one exact solve takes minutes and its cost matrix several GB."""
MAX_OT_HOURS = 12.0
"""A suite whose exact transports alone would take longer is refused."""


@dataclass(frozen=True)
class MemoryEstimate:
    training: int
    evaluation: int
    transport: int

    @property
    def total(self) -> int:
        return self.training + self.evaluation + self.transport

    def describe(self) -> str:
        return ", ".join(f"{name} {_gib(n)}" for name, (n, _) in self._parts().items() if n)

    def remedy(self) -> str:
        """The setting that would shrink the largest part."""
        return max(self._parts().values())[1]

    def _parts(self) -> dict[str, tuple[int, str]]:
        return {
            "training batch": (self.training, "batch_size (or group_size)"),
            "evaluation samples": (self.evaluation,
                                   "eval.samples, eval.critic_samples or eval.fid_samples"),
            "exact OT cost matrix": (self.transport, "eval.w1_samples"),
        }


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def available_memory(device: torch.device) -> int:
    """Bytes a group may use on ``device``: free CUDA memory, or the host's available RAM."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def _activations_per_sample(generator: nn.Module, critic: nn.Module, latent_dim: int) -> int:
    """Floats every leaf module of both networks outputs for one sample, counted by running
    them on the meta device (no memory, no arithmetic)."""
    total = 0

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel()

    hooks = [m.register_forward_hook(count) for net in (generator, critic)
             for m in net.modules() if not list(m.children())]
    critic(generator(torch.empty(1, latent_dim, device="meta")))
    for hook in hooks:
        hook.remove()
    return total


def _image_activations(spec: RunSpec) -> int:
    channels, size, _ = get_dataset(spec.dataset).shape
    arch = spec.image_model
    norm = "layer" if arch.critic_norm == "auto" else arch.critic_norm
    with torch.device("meta"):
        generator, critic = build_image_models(
            arch.arch, image_size=size, channels=channels, latent_dim=arch.latent_dim,
            critic_norm=norm, base_filters=arch.filters)
        return _activations_per_sample(generator, critic, arch.latent_dim)


def estimate_memory(group: list[RunSpec]) -> MemoryEstimate:
    """Peak bytes of one group (its K members train as one model)."""
    spec, k = group[0], len(group)
    ev = spec.eval
    if spec.domain == "image":
        c, h, w = get_dataset(spec.dataset).shape
        per_sample = _image_activations(spec)
        image = c * h * w
        eval_samples = max(ev.samples, ev.fid_samples)
        return MemoryEstimate(
            training=k * spec.batch_size * per_sample * FLOAT_BYTES * TRAIN_FACTOR,
            evaluation=k * eval_samples * image * FLOAT_BYTES,
            transport=0,
        )
    m = spec.model
    per_sample = 2 * (m.width * m.depth + 2)  # generator and critic MLPs
    eval_samples = max(ev.samples, ev.w1_samples, ev.critic_samples)
    return MemoryEstimate(
        training=k * spec.batch_size * per_sample * FLOAT_BYTES * TRAIN_FACTOR,
        evaluation=k * eval_samples * per_sample * FLOAT_BYTES * 2,
        transport=OT_BYTES_PER_PAIR * ev.w1_samples**2,
    )


def ot_seconds(n: int) -> float:
    """Estimated seconds of one exact W1 between two sets of ``n`` points."""
    return OT_SECONDS_AT_1000 * (n / 1000) ** OT_EXPONENT


def _checkpoints(spec: RunSpec) -> int | None:
    """Checkpoints of a run (step 0, the scheduled ones, the end); None for a seconds budget,
    whose number of steps is not known before training."""
    budget, recipe = spec.budget, spec.recipe
    if budget.kind == "seconds":
        return None
    steps = {"generator_steps": budget.amount,
             "critic_steps": budget.amount // recipe.n_critic,
             "real_samples": budget.amount // (recipe.n_critic * spec.batch_size),
             # at most: extrapolating optimizers evaluate twice per step
             "gradient_evaluations": budget.amount // (recipe.n_critic + 1)}[budget.kind]
    return spec.eval.checkpoints(steps)


def check_resources(groups: list[list[RunSpec]], device: torch.device) -> None:
    """Refuse a suite whose groups cannot fit ``device``'s memory or whose exact transports
    would take hours; a BenchError says which setting to lower."""
    available = available_memory(device)
    for group in groups:
        estimate = estimate_memory(group)
        if estimate.total > available:
            spec = group[0]
            raise BenchError(
                f"{spec.dataset} / {spec.gan} needs about {_gib(estimate.total)} "
                f"({estimate.describe()}) but {device} has {_gib(available)} available; lower "
                f"{estimate.remedy()}")
    toy = [spec for group in groups for spec in group if spec.domain == "toy"]
    if not toy:
        return
    n = toy[0].eval.w1_samples
    if n > MAX_OT_SAMPLES:
        raise BenchError(
            f"eval.w1_samples: {n} exceeds {MAX_OT_SAMPLES}: one exact W1 would take about "
            f"{ot_seconds(n) / 60:.0f} min and a {_gib(8 * n * n)} cost matrix (exact OT grows "
            f"as N^{OT_EXPONENT:g}); W1 on 1,000-2,500 samples is the usual protocol")
    counts = [_checkpoints(spec) for spec in toy]
    if None in counts:
        return
    hours = sum(counts) * ot_seconds(n) / 3600
    if hours > MAX_OT_HOURS:
        raise BenchError(
            f"eval.w1_samples: {sum(counts)} exact W1 solves of N={n} would take about "
            f"{hours:.0f} hours (limit {MAX_OT_HOURS:g} h; about {ot_seconds(n):.1f} s each, "
            f"growing as N^{OT_EXPONENT:g}); lower eval.w1_samples or raise eval.every")
