"""The GAN registry: a name maps to a loss and a Lipschitz constraint, nothing else.

The trainer looks GANs up here and never branches on their names.
"""

from collections.abc import Callable
from dataclasses import dataclass

from gan_zoo.constraints import Constraint, GradientPenalty, WeightClipping
from gan_zoo.losses import NON_SATURATING, WASSERSTEIN, AdversarialLoss
from gan_zoo.recipes import Recipe


@dataclass(frozen=True)
class GanDefinition:
    name: str
    loss: AdversarialLoss
    make_constraint: Callable[[Recipe], Constraint]
    description: str
    constraint_fields: tuple[str, ...] = ()
    """The recipe fields its constraint takes (a study searches them for this GAN only)."""


GANS: dict[str, GanDefinition] = {
    "gan": GanDefinition(
        "gan",
        NON_SATURATING,
        lambda recipe: Constraint(),
        "vanilla GAN, non-saturating generator loss (Goodfellow et al. 2014)",
    ),
    "wgan-clip": GanDefinition(
        "wgan-clip",
        WASSERSTEIN,
        lambda recipe: WeightClipping(recipe.clip_value),
        "WGAN with weight clipping (Arjovsky et al. 2017)",
        ("clip_value",),
    ),
    "wgan-gp": GanDefinition(
        "wgan-gp",
        WASSERSTEIN,
        lambda recipe: GradientPenalty(recipe.gp_weight),
        "WGAN with two-sided gradient penalty (Gulrajani et al. 2017)",
        ("gp_weight",),
    ),
}


def get_gan(name: str) -> GanDefinition:
    """The registered GAN called ``name`` (suites check their names before anything is built:
    an unknown one here is a programming error)."""
    try:
        return GANS[name]
    except KeyError:
        raise KeyError(f"unknown GAN '{name}'; valid: {', '.join(GANS)}") from None
