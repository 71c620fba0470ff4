"""A reference WGAN-GP toy training loop, written the way the public reference code is.

This is the baseline of ``run_bench.py perf``: the loop a researcher gets from the WGAN-GP toy
code (``gan_toy.py`` of Gulrajani et al.'s ``improved_wgan_training``) and its PyTorch ports
(e.g. caogang/wgan-gp). It is **deliberately independent of the suite**: it imports nothing
from ``bench`` or ``gan_zoo`` and reproduces the reference's style, including the parts that
make it slow, because those are what the comparison measures:

- one generator and one critic per process, plain ``nn.Sequential`` MLPs (Linear-ReLU x 3,
  then Linear), weights initialised N(0, 0.02) and biases 0 as in the PyTorch port;
- ``8gaussians`` data made on the host for every batch, point by point with ``numpy`` and
  ``random.choice`` as the reference's ``inf_train_gen`` does, then copied to the device;
- 2-D latent noise drawn on the host (``torch.randn``) and copied to the device;
- three critic backward passes per critic step (real with -1, fake with +1, penalty), as
  the reference calls ``backward`` on each term;
- the gradient penalty through ``torch.autograd.grad`` with ``create_graph=True``;
- torch's default Adam (1e-4, betas (0.5, 0.9)); lambda 0.1, n_critic 5, batch 256;
- the critic cost, the Wasserstein estimate and the generator cost copied to the host once
  per generator iteration (the reference's ``lib.plot.plot(..., x.cpu().data.numpy())``),
  which waits for the device every iteration.

It uses the global random generators (``torch``, ``numpy``, ``random``), as the reference
does: one model per process.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, autograd, nn, optim


@dataclass(frozen=True)
class ReferenceConfig:
    """The WGAN-GP toy code's settings (``DIM`` is ``width``)."""

    width: int = 512
    """Hidden units per layer (512 in the reference; smaller for quick CPU checks)."""
    batch_size: int = 256
    critic_iters: int = 5
    """Critic steps per generator step."""
    penalty_weight: float = 0.1
    """lambda; the reference uses 0.1 on toy data."""
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    seed: int = 1
    """Seeds torch, numpy and random (the reference calls ``torch.manual_seed(1)``)."""


def eight_gaussians(batch_size: int) -> Iterator[np.ndarray]:
    """The reference's ``8gaussians`` batches: a Python loop over points, scaled by 1/1.414."""
    scale = 2.0
    s = 1.0 / np.sqrt(2)
    centers = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    centers = [(scale * x, scale * y) for x, y in centers]
    while True:
        points = []
        for _ in range(batch_size):
            point = np.random.randn(2) * 0.02
            center = random.choice(centers)
            point[0] += center[0]
            point[1] += center[1]
            points.append(point)
        batch = np.array(points, dtype="float32")
        batch /= 1.414
        yield batch


def _mlp(width: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, width), nn.ReLU(True),
        nn.Linear(width, width), nn.ReLU(True),
        nn.Linear(width, width), nn.ReLU(True),
        nn.Linear(width, out_dim),
    )


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(0.0, 0.02)
        module.bias.data.fill_(0)


class ReferenceWGANGP:
    """The reference toy WGAN-GP: one generator, one critic, one process."""

    def __init__(self, config: ReferenceConfig, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        random.seed(config.seed)
        self.net_g = _mlp(config.width, 2).to(self.device)
        self.net_d = _mlp(config.width, 1).to(self.device)
        self.net_g.apply(_init_weights)
        self.net_d.apply(_init_weights)
        self.opt_d = optim.Adam(self.net_d.parameters(), lr=config.lr, betas=config.betas)
        self.opt_g = optim.Adam(self.net_g.parameters(), lr=config.lr, betas=config.betas)
        self.data = eight_gaussians(config.batch_size)
        self.log: dict[str, list[float]] = {"disc_cost": [], "wasserstein": [], "gen_cost": []}

    def _critic(self, x: Tensor) -> Tensor:
        return self.net_d(x).view(-1)

    def _noise(self) -> Tensor:
        return torch.randn(self.config.batch_size, 2).to(self.device)

    def gradient_penalty(self, real: Tensor, fake: Tensor) -> Tensor:
        """lambda * E[(||grad D(x_hat)|| - 1)^2] at random interpolates of real and fake."""
        alpha = torch.rand(real.shape[0], 1).expand(real.size()).to(self.device)
        interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        scores = self._critic(interpolates)
        (gradients,) = autograd.grad(
            outputs=scores, inputs=interpolates,
            grad_outputs=torch.ones(scores.size(), device=self.device),
            create_graph=True, only_inputs=True,
        )
        return ((gradients.norm(2, dim=1) - 1) ** 2).mean() * self.config.penalty_weight

    def iteration(self) -> dict[str, float]:
        """One generator iteration: ``critic_iters`` critic steps, one generator step, and the
        reference's per-iteration logging (a host copy of each cost)."""
        for p in self.net_d.parameters():
            p.requires_grad = True
        for _ in range(self.config.critic_iters):
            real = torch.Tensor(next(self.data)).to(self.device)
            self.net_d.zero_grad()
            d_real = self._critic(real).mean()
            (-d_real).backward()
            with torch.no_grad():  # the generator is frozen during critic steps
                fake = self.net_g(self._noise())
            d_fake = self._critic(fake).mean()
            d_fake.backward()
            penalty = self.gradient_penalty(real, fake)
            penalty.backward()
            disc_cost = d_fake - d_real + penalty
            wasserstein = d_real - d_fake
            self.opt_d.step()

        for p in self.net_d.parameters():
            p.requires_grad = False  # no critic gradients in the generator step
        self.net_g.zero_grad()
        gen_cost = -self._critic(self.net_g(self._noise())).mean()
        gen_cost.backward()
        self.opt_g.step()

        logged = {
            "disc_cost": disc_cost.item(),
            "wasserstein": wasserstein.item(),
            "gen_cost": gen_cost.item(),
        }
        for name, value in logged.items():
            self.log[name].append(value)
        return logged

    def train(self, iterations: int) -> None:
        """``iterations`` generator iterations."""
        for _ in range(iterations):
            self.iteration()
