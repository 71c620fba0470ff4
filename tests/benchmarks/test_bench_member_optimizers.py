"""One optimizer step on the ``quick`` suite's critic (3 x 64 toy MLP) for one seed batch of 8
members: torch.optim as the trainer builds it (one setting for all members), and the member
optimizers with one setting and with a distinct setting per member.

``extra_info`` holds the members per call and, when timed, member steps per second.
"""

import pytest
import torch

from bench.core.hyperparameters import optimizer_values
from bench.core.specs import OptimizerSpec
from bench.training.member_optimizers import make_optimizer
from bench.training.streams import make_generators
from gan_zoo.architectures.mlp import build_toy_models
from tests.benchmarks.conftest import bench_device, record_rates, synchronised

MEMBERS, WIDTH, DEPTH = 8, 64, 3
KINDS = ("torch", "member, one setting", "member, distinct settings")


def _critic_with_gradients(device: torch.device) -> list[torch.Tensor]:
    _, critic = build_toy_models(make_generators(range(MEMBERS), device), 2, 2, WIDTH, DEPTH)
    params = list(critic.to(device).parameters())
    for p in params:
        p.grad = torch.randn_like(p) * 1e-2
    return params


def _optimizer(name: str, kind: str, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if kind == "torch":
        spec = OptimizerSpec(name, 1e-4, (0.5, 0.9))
        return make_optimizer(name, params, optimizer_values(spec, "critic"), members=False)
    spread = kind == "member, distinct settings"
    lr = [1e-4 * (1 + m / MEMBERS if spread else 1) for m in range(MEMBERS)]
    beta1 = [0.5 + (0.4 * m / MEMBERS if spread else 0) for m in range(MEMBERS)]
    beta2 = [0.9 + (0.09 * m / MEMBERS if spread else 0) for m in range(MEMBERS)]
    values = {"adam": {"lr": lr, "beta1": beta1, "beta2": beta2}, "rmsprop": {"lr": lr},
              "sgd": {"lr": lr, "momentum": [0.0] * MEMBERS, "nesterov": [False] * MEMBERS}}
    return make_optimizer(name, params, values[name], members=True)


@pytest.mark.benchmark(group="optimizer-step")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_optimizer_step(benchmark, name, kind):
    device = bench_device()
    params = _critic_with_gradients(device)
    optimizer = _optimizer(name, kind, params)
    optimizer.step()  # state created before timing, as in training
    benchmark(synchronised(optimizer.step, device))
    assert all(torch.isfinite(p).all() for p in params)
    record_rates(benchmark, device, members=MEMBERS, member_steps=MEMBERS)
