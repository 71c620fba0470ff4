"""One critic step, written once: the GAN's critic loss with its constraint's penalty, the
optimizer's step, then the constraint's projection.

The trainer, the side experiments and the critic diagnostics all step their critics through
these two functions; the trainer calls them as two phases of its schedule (the generator's
gradient may come between them, in the simultaneous form). Nothing here reads a value back
to the host, so the trainer's loop stays free of per-step syncs.
"""

from collections.abc import Callable
from typing import NamedTuple

from torch import Tensor, nn
from torch.optim import Optimizer

from gan_zoo.constraints import Constraint, UniformSampler
from gan_zoo.losses import CriticLoss


class CriticLosses(NamedTuple):
    """One critic gradient's losses, per member (shape [K])."""

    loss: Tensor
    penalty: Tensor | None
    """The constraint's penalty; None when it has none."""
    total: Tensor
    """What was differentiated: the loss plus the penalty."""


def critic_gradient(
    critic: Callable[[Tensor], Tensor], critic_loss: CriticLoss, constraint: Constraint,
    optimizer: Optimizer, real: Tensor, fake: Tensor, uniform: UniformSampler,
) -> CriticLosses:
    """The gradient of the critic loss (penalty included) in every critic parameter's
    ``.grad``, its old gradients cleared. ``fake`` must carry no gradient to the generator
    (made under ``no_grad``, or detached)."""
    loss = critic_loss(critic(real), critic(fake))
    penalty = constraint.penalty(critic, real, fake, uniform)
    total = loss if penalty is None else loss + penalty
    optimizer.zero_grad(set_to_none=True)
    total.sum().backward()  # members share no parameters: each gets its own gradient
    return CriticLosses(loss, penalty, total)


def critic_update(critic: nn.Module, constraint: Constraint, optimizer: Optimizer,
                  extrapolate: bool = False) -> None:
    """The optimizer's step from the gradients it holds (``extrapolate``: its look-ahead
    step instead, ``optimizer.extrapolate()``), then the constraint: clipping is the projection
    of every step, extrapolations included (Gidel et al. 2019, Algorithms 2-4)."""
    if extrapolate:
        optimizer.extrapolate()
    else:
        optimizer.step()
    constraint.after_critic_step(critic)


def critic_step(
    critic: nn.Module, critic_loss: CriticLoss, constraint: Constraint, optimizer: Optimizer,
    real: Tensor, fake: Tensor, uniform: UniformSampler,
) -> CriticLosses:
    """One whole critic step: its gradient, then its update."""
    losses = critic_gradient(critic, critic_loss, constraint, optimizer, real, fake, uniform)
    critic_update(critic, constraint, optimizer)
    return losses
