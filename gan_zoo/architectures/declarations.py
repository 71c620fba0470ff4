"""The architectures a suite may name, declared without torch: the image generator/critic pairs
(``dcgan.py`` builds them, or a plugin's builder), the image critics' norms and the MLPs'
hidden activations (``mlp.py`` builds each one, keyed by the names declared here).
"""

from collections.abc import Callable
from dataclasses import dataclass

CRITIC_NORMS = ("batch", "layer", "none")
"""The image critic's normalisation after each inner conv (``dcgan.DCGANCritic``)."""
ACTIVATIONS = ("relu", "leakyrelu", "softplus", "tanh")
"""The hidden activations an MLP can have, by name (the WGAN-GP paper's four)."""


@dataclass(frozen=True)
class ImageArch:
    """A named generator/critic pair."""

    description: str
    generator: str
    """One of "dcgan", "dcgan-nobn" (no batch norm, constant filters) or "mlp"."""
    base_filters: int
    """Filters of the DCGAN layer nearest the image (ngf = ndf in the reference code)."""
    kernel_size: int


@dataclass(frozen=True)
class PluginArch:
    """A generator/critic pair a plugin registered (``gan_zoo.plugins.register_architecture``)."""

    description: str
    build: Callable[..., tuple]
    """``build(image_size=, channels=, latent_dim=, critic_norm=, filters=) -> (generator,
    critic)``: plain modules on [B, ...] images, the critic's scores of shape [B]."""


IMAGE_ARCHS: dict[str, ImageArch | PluginArch] = {  # and any a plugin registers
    "dcgan": ImageArch(
        "the WGAN paper's DCGAN (reference DCGAN_G/DCGAN_D)",
        generator="dcgan",
        base_filters=64,
        kernel_size=4,
    ),
    "dcgan-wgangp": ImageArch(
        "the WGAN-GP paper's CIFAR-10 DCGAN: DIM=128, 5x5 kernels (the paper's z has 128 dims)",
        generator="dcgan",
        base_filters=128,
        kernel_size=5,
    ),
    "dcgan-nobn-g": ImageArch(
        "DCGAN critic; generator without batch norm and with a constant filter count",
        generator="dcgan-nobn",
        base_filters=64,
        kernel_size=4,
    ),
    "mlp-g": ImageArch(
        "DCGAN critic; MLP generator of 4 hidden ReLU layers of 512 units",
        generator="mlp",
        base_filters=64,
        kernel_size=4,
    ),
}
