"""Lipschitz constraints on the critic, kept apart from the losses.

A constraint contributes an optional penalty term to the critic loss and an optional hook
after each critic optimiser step; the trainer calls both for every GAN and never asks which
constraint it holds.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

# Draws U[0, 1) numbers of shape [K, *shape], each member from its own seeded stream.
UniformSampler = Callable[[Sequence[int]], Tensor]


class Constraint:
    """No constraint (the vanilla GAN)."""

    name = "none"
    batch_norm_compatible = True
    """False where the constraint needs per-sample critic gradients, which batch norm mixes."""
    double_backward = False
    """True where the critic's loss differentiates through its input gradient."""

    def penalty(
        self, critic: nn.Module, real: Tensor, fake: Tensor, uniform: UniformSampler
    ) -> Tensor | None:
        """Extra critic loss per member, shape [K], or None."""
        return None

    def after_critic_step(self, critic: nn.Module) -> None:
        """Called after every critic optimiser step."""


@dataclass
class WeightClipping(Constraint):
    """WGAN (Arjovsky et al. 2017): clamp every critic parameter to [-c, c] after each step.

    ``clip_value`` is one bound, or a [K] tensor of bounds, member k's for the parameters'
    leading member dimension k (hyperparameter trials batched as one model)."""

    clip_value: float | Tensor
    name = "weight-clipping"

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        params = [p for p in critic.parameters()]
        if isinstance(self.clip_value, Tensor):
            for p in params:
                bound = self.clip_value.view(-1, *(1,) * (p.dim() - 1))
                p.clamp_(min=-bound, max=bound)
            return
        # foreach ops clamp all tensors in a couple of kernel launches instead of one each
        torch._foreach_clamp_min_(params, -self.clip_value)
        torch._foreach_clamp_max_(params, self.clip_value)


@dataclass
class GradientPenalty(Constraint):
    """WGAN-GP (Gulrajani et al. 2017): lambda * E[(||grad D(x_hat)|| - 1)^2], two-sided,
    at x_hat = eps * real + (1 - eps) * fake with eps ~ U[0, 1] per sample. ``weight`` is one
    lambda or a [K] tensor, member k's."""

    weight: float | Tensor
    name = "gradient-penalty"
    batch_norm_compatible = False
    double_backward = True

    def penalty(
        self, critic: nn.Module, real: Tensor, fake: Tensor, uniform: UniformSampler
    ) -> Tensor:
        # one eps per sample, broadcast over the feature dims; real/fake are [K, B, ...]
        eps = uniform((real.shape[1],) + (1,) * (real.dim() - 2))
        interpolates = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
        scores = critic(interpolates)
        (grads,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
        norms = grads.flatten(2).norm(dim=-1)  # [K, B]
        return self.weight * ((norms - 1) ** 2).mean(-1)
