"""Which speed-ups a group uses, from the requested modes, the device and the workload.

Each speed-up is requested as ``auto``, ``on`` or ``off``. ``auto`` picks what was measured to
pay (docs/PERFORMANCE.md); ``on`` asks for it wherever it can work. What a group ends up using,
and why something was left out, is recorded in every run's provenance.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from bench.training.accel import MODES

COMPILE_BACKEND = "inductor"
"""torch.compile's backend (tests use the faster ``aot_eager``, which shares its autograd)."""

DOUBLE_BACKWARD_NOTE = (
    "critic not compiled: torch.compile does not support the gradient penalty's double backward"
)
FUSED_COMPILE_NOTE = "networks not compiled: the fused MLP step calls no network module"


@dataclass
class AccelPlan:
    """What a group uses; the trainer updates it when a speed-up falls back at run time."""

    compile: tuple[str, ...] = ()
    """Networks run through torch.compile: ``generator`` and/or ``critic``."""
    cuda_graphs: bool = False
    channels_last: bool = False
    fused: bool = False
    """Gradients by the fused MLP step (gan_zoo/fused_mlp.py) instead of autograd."""
    notes: list[str] = field(default_factory=list)
    """Why a requested or automatic speed-up is not used, one line each."""

    def to_dict(self) -> dict:
        return {"compile": list(self.compile), "cuda_graphs": self.cuda_graphs,
                "channels_last": self.channels_last, "fused": self.fused,
                "notes": list(self.notes)}


def plan_acceleration(
    compile_mode: str, graphs_mode: str, channels_last_mode: str, device: torch.device, *,
    double_backward: bool, convolutional: bool,
) -> AccelPlan:
    """The speed-ups a group starts with.

    - torch.compile: ``auto`` compiles on CUDA only; on a CPU the suite's networks are bound by
      batched matrix products that compiling does not speed up, and compiling costs 7-16 s per
      group. A critic under a gradient penalty is never compiled (``double_backward``).
    - CUDA graphs: ``auto`` captures the toy MLPs' iterations on CUDA, whose small kernels are
      bound by launch overhead; ``on`` captures the DCGANs' too.
    - channels_last: convolutional networks only; ``auto`` uses it on every device.
    """
    for name, mode in (("compile", compile_mode), ("cuda_graphs", graphs_mode),
                       ("channels_last", channels_last_mode)):
        _check_mode(name, mode)
    plan = AccelPlan()
    cuda = device.type == "cuda"
    if compile_mode == "on" or (compile_mode == "auto" and cuda):
        plan.compile = ("generator",) if double_backward else ("generator", "critic")
        if double_backward:
            plan.notes.append(DOUBLE_BACKWARD_NOTE)
    if cuda and (graphs_mode == "on" or (graphs_mode == "auto" and not convolutional)):
        plan.cuda_graphs = True
    plan.channels_last = convolutional and channels_last_mode != "off"
    return plan


def plan_fused(plan: AccelPlan, mode: str, unfit: str | None) -> bool:
    """Whether the group trains with the fused MLP step, recorded in ``plan``: ``auto`` and
    ``on`` wherever it applies (``unfit`` None: the 2-D MLP GANs; proved equal to autograd in
    float64 and certified on the ``ci`` suite, docs/PERFORMANCE.md), ``off`` keeps autograd.
    It calls no network module, so a fused group compiles nothing."""
    _check_mode("fused", mode)
    plan.fused = mode != "off" and unfit is None
    if mode == "on" and unfit is not None:
        plan.notes.append(f"fused step not used: {unfit}; gradients by autograd")
    if plan.fused and plan.compile:
        plan.compile = ()
        plan.notes = [n for n in plan.notes if n != DOUBLE_BACKWARD_NOTE] + [FUSED_COMPILE_NOTE]
    return plan.fused


def _check_mode(name: str, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"{name} mode {mode!r} is not one of {', '.join(MODES)}")


def compile_network(network: nn.Module) -> Callable:
    """``network`` through torch.compile; it shares the network's parameters, so the eager
    network stays the one that is evaluated, clipped, saved and restored."""
    return torch.compile(network, backend=COMPILE_BACKEND)
