"""The GAN registry: each GAN declared in ``gan_zoo/declarations.py`` maps to a loss and a
Lipschitz constraint, nothing else: the papers' GANs here, a plugin's where it registers them
(``gan_zoo.plugins.register_gan``).

The trainer looks GANs up here (``get_gan``) and never branches on their names.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields

from gan_zoo.constraints import Constraint, GradientPenalty, WeightClipping
from gan_zoo.declarations import GAN_SPECS, GanSpec
from gan_zoo.losses import NON_SATURATING, WASSERSTEIN, AdversarialLoss
from gan_zoo.recipes import Recipe


@dataclass(frozen=True, kw_only=True)
class GanDefinition(GanSpec):
    """A declared GAN with its loss and constraint."""

    loss: AdversarialLoss
    make_constraint: Callable[[Recipe], Constraint]


def _implement(name: str, loss: AdversarialLoss,
               make_constraint: Callable[[Recipe], Constraint]) -> GanDefinition:
    """The declared GAN ``name`` with its loss and constraint (a KeyError if not declared)."""
    declared = GAN_SPECS[name]
    return GanDefinition(**{f.name: getattr(declared, f.name) for f in fields(GanSpec)},
                         loss=loss, make_constraint=make_constraint)


GANS: dict[str, GanDefinition] = {gan.name: gan for gan in (
    _implement("gan", NON_SATURATING, lambda recipe: Constraint()),
    _implement("wgan-clip", WASSERSTEIN, lambda recipe: WeightClipping(recipe.clip_value)),
    _implement("wgan-gp", WASSERSTEIN, lambda recipe: GradientPenalty(recipe.gp_weight)),
)}
"""The papers' GANs, by name (a test checks that none is missing): what the side experiments
train and the paper claims are about."""
PLUGIN_GANS: dict[str, GanDefinition] = {}
"""The GANs plugins registered, by name."""


def get_gan(name: str) -> GanDefinition:
    """The registered GAN called ``name``, a paper's or a plugin's (suites check their names
    before anything is built: an unknown one here is a programming error)."""
    gan = GANS.get(name) or PLUGIN_GANS.get(name)
    if gan is None:
        raise KeyError(f"unknown GAN '{name}'; valid: {', '.join([*GANS, *PLUGIN_GANS])}")
    return gan
