"""The GANs by name, declared without torch: what a suite may name and a study may search.

``gan_zoo/registry.py`` implements each one (its loss and Lipschitz constraint), keyed by the
name declared here; its paper recipes are in ``gan_zoo/recipes.py``, one per data domain. A
plugin's GAN is declared here too when it registers (``gan_zoo.plugins.register_gan``).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GanSpec:
    """One GAN as a suite knows it."""

    name: str
    description: str
    constraint_fields: tuple[str, ...] = ()
    """The recipe fields its constraint takes (a study searches them for this GAN only)."""


GAN_SPECS: dict[str, GanSpec] = {spec.name: spec for spec in (
    GanSpec("gan", "vanilla GAN, non-saturating generator loss (Goodfellow et al. 2014)"),
    GanSpec("wgan-clip", "WGAN with weight clipping (Arjovsky et al. 2017)", ("clip_value",)),
    GanSpec("wgan-gp", "WGAN with two-sided gradient penalty (Gulrajani et al. 2017)",
            ("gp_weight",)),
)}
"""Every GAN, by name: the papers', then any a plugin registers."""
