"""Adversarial losses as pure functions with one shared signature.

Every critic loss takes ``(real_scores, fake_scores)`` and every generator loss takes
``fake_scores``; scores have shape ``[K, B]`` (K seed-batched members, B samples) and losses
return one value per member, shape ``[K]``. The trainer sums over members before ``backward``:
members have disjoint parameters, so each one receives exactly its own gradient.

Sign convention: the critic *minimises* its loss, which for the WGAN losses means it maximises
``E[D(real)] - E[D(fake)]``.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

CriticLoss = Callable[[Tensor, Tensor], Tensor]
GeneratorLoss = Callable[[Tensor], Tensor]
DivergenceEstimate = Callable[[Tensor, Tensor], Tensor]


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """-(E[D(real)] - E[D(fake)]): minimising it maximises the Kantorovich-Rubinstein gap."""
    return fake_scores.mean(-1) - real_scores.mean(-1)


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E[D(G(z))]: the generator moves its samples up the critic."""
    return -fake_scores.mean(-1)


def wasserstein_estimate(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[D(real)] - E[D(fake)], the critic's estimate of W1 (up to its Lipschitz constant)."""
    return real_scores.mean(-1) - fake_scores.mean(-1)


def bce_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Binary cross-entropy on logits: real labelled 1, fake labelled 0."""
    real_term = F.softplus(-real_scores).mean(-1)  # -log sigmoid(s)
    fake_term = F.softplus(fake_scores).mean(-1)  # -log(1 - sigmoid(s))
    return real_term + fake_term


def nonsaturating_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E[log D(G(z))], Goodfellow et al.'s non-saturating generator loss."""
    return F.softplus(-fake_scores).mean(-1)


def minimax_generator_loss(fake_scores: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))], the generator's side of the GAN's minimax value function
    (Goodfellow et al. 2014, Eq. 1): log(1 - sigmoid(s)) = -softplus(s). Its gradient
    vanishes where the discriminator rejects the fakes (D(G(z)) -> 0), the saturation the
    JS argument of the WGAN paper is about."""
    return -F.softplus(fake_scores).mean(-1)


def jensen_shannon_estimate(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """JS(P_r, P_g) in nats as the discriminator sees it: (log 4 - BCE) / 2.

    At the optimal discriminator the GAN value function equals 2 JS - log 4, so this is the
    vanilla GAN's counterpart of the WGAN critic's Wasserstein estimate.
    """
    return (math.log(4.0) - bce_discriminator_loss(real_scores, fake_scores)) / 2


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of critic/generator losses plus the divergence the critic estimates."""

    name: str
    critic: CriticLoss
    generator: GeneratorLoss
    estimate: DivergenceEstimate
    estimate_name: str
    output: Callable[[Tensor], Tensor]
    """The critic's output from its score: the discriminator's probability D(x) = sigmoid(s)
    for the cross-entropy losses, the critic's value f(x) = s for Wasserstein."""
    minimax_generator: GeneratorLoss | None = None
    """The generator's side of the minimax game whose inner maximum ``estimate`` measures,
    where ``generator`` is another loss (None: ``generator`` is it)."""


def score_output(scores: Tensor) -> Tensor:
    """The critic's output as its score itself (a Wasserstein critic's value f(x))."""
    return scores


WASSERSTEIN = AdversarialLoss(
    "wasserstein",
    wasserstein_critic_loss,
    wasserstein_generator_loss,
    wasserstein_estimate,
    "wasserstein",
    score_output,
)
NON_SATURATING = AdversarialLoss(
    "non-saturating",
    bce_discriminator_loss,
    nonsaturating_generator_loss,
    jensen_shannon_estimate,
    "jensen-shannon",
    torch.sigmoid,
    minimax_generator_loss,
)
