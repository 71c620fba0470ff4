"""A registered GAN's critic side, built for the small experiments from gan_zoo alone.

The experiments train critics (and, for parallel lines, a one-parameter generator) with
exactly the losses and Lipschitz constraints the benchmark's GANs use (gan_zoo.registry), each
with its paper recipe's optimizer, resolved as a suite's runs resolve theirs
(``OptimizerSpec.resolve``); the suite section sets the learning rate and the penalty weight,
so every GAN gets the same step size on these tiny problems.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from bench.core.hyperparameters import optimizer_values
from bench.core.specs import OptimizerSpec
from bench.training.member_optimizers import make_optimizer
from bench.training.streams import MemberStreams
from gan_zoo.architectures.mlp import EnsembleCritic
from gan_zoo.constraints import Constraint
from gan_zoo.critic_step import critic_step
from gan_zoo.losses import AdversarialLoss
from gan_zoo.recipes import Recipe, recipe_for
from gan_zoo.registry import get_gan


@dataclass
class Adversary:
    """K seed-batched critics of one GAN with its loss, constraint and optimizer."""

    gan: str
    loss: AdversarialLoss
    constraint: Constraint
    recipe: Recipe
    critic: EnsembleCritic
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    """The experiment's one stream of data and penalty draws (members differ by their
    initialisation; one stream keeps each step a few kernels instead of K per draw)."""

    @property
    def members(self) -> int:
        return self.critic.members

    @property
    def device(self) -> torch.device:
        return self.generator.device

    def rand(self, shape) -> Tensor:
        """U[0, 1) numbers of shape [K, *shape]."""
        return torch.rand((self.members, *shape), generator=self.generator,
                          device=self.generator.device)

    def randn(self, shape) -> Tensor:
        """N(0, 1) numbers of shape [K, *shape]."""
        return torch.randn((self.members, *shape), generator=self.generator,
                           device=self.generator.device)

    def randint(self, high: int, shape) -> Tensor:
        """Integers in [0, high) of shape [K, *shape] (a 2-D dataset's mixture components)."""
        return torch.randint(high, (self.members, *shape), generator=self.generator,
                             device=self.generator.device)

    def critic_step(self, real: Tensor, fake: Tensor) -> None:
        """One optimiser step on the GAN's critic loss (penalty included) and constraint."""
        critic_step(self.critic, self.loss.critic, self.constraint, self.optimizer, real,
                    fake.detach(), self.rand)


def make_optimizer_for(recipe: Recipe, params, network: str) -> torch.optim.Optimizer:
    """The recipe's optimizer over one (ensemble) network's parameters (``network``:
    ``critic`` or ``generator``)."""
    spec = OptimizerSpec.resolve(recipe)
    return make_optimizer(spec.name, params, optimizer_values(spec, network), members=False)


def make_adversary(
    gan: str, seeds: list[int], data_dim: int, width: int, depth: int, lr: float,
    gp_weight: float, device: torch.device, stream_seed: int = 0,
) -> Adversary:
    """``gan``'s toy recipe with learning rate ``lr`` and penalty weight ``gp_weight``, one
    critic per seed (member k initialised from seed k's stream), data drawn from
    ``stream_seed``'s stream."""
    recipe = recipe_for(gan, "toy", {"lr": lr, "gp_weight": gp_weight})
    init = MemberStreams(seeds, device, purpose="init")
    critic = EnsembleCritic(init.generators, data_dim, width, depth).to(device)
    return adversary_for(gan, recipe, critic, stream_seed)


def adversary_for(gan: str, recipe: Recipe, critic: EnsembleCritic,
                  stream_seed: int) -> Adversary:
    """``critic`` (on its device) trained as ``gan`` with ``recipe``'s constraint and
    optimizer, its random draws from ``stream_seed``'s stream."""
    definition = get_gan(gan)
    device = next(critic.parameters()).device
    return Adversary(gan, definition.loss, definition.make_constraint(recipe), recipe, critic,
                     make_optimizer_for(recipe, critic.parameters(), "critic"),
                     torch.Generator(device).manual_seed(stream_seed))


def input_gradient(fn, x: Tensor) -> Tensor:
    """|d fn(x) / dx| per sample of ``x`` [K, B, d] (each output depends on its own input)."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad.norm(dim=-1)


@contextmanager
def small_kernels(device: torch.device) -> Iterator[None]:
    """One intra-op thread on a CPU while the body runs: kernels this small lose far more to
    thread hand-offs than they gain (10x slower with 2 threads on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
