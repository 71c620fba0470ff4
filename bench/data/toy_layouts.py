"""The 2-D toy distributions as plain numbers: each mixture's centres and noise, the swiss
roll's noise and scale. Torch-free, so a suite is checked without loading torch; ``toy.py``
samples them on the device.

Parameters follow the WGAN-GP reference toy code and PacGAN's presets (see DESIGN.md):
- ``ring8``: centres (+-1, 0), (0, +-1), (+-1/sqrt2, +-1/sqrt2) times 2, noise std 0.02, the
  whole batch divided by 1.414 (radius ~1.414, std ~0.0141);
- ``grid25``: centres (2x, 2y) for x, y in -2..2, noise std 0.05, divided by 2.828;
- ``swissroll``: sklearn's ``make_swiss_roll(noise=0.25)[:, [0, 2]] / 7.5``;
- ``ring8-pacgan``: means (cos 2 pi i/8, sin 2 pi i/8), std 0.01;
- ``grid25-pacgan``: means {-4, -2, 0, 2, 4}^2, std 0.05.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MixtureLayout:
    """Equal-weight isotropic Gaussian mixture; its modes define mode coverage."""

    name: str
    centers: tuple[tuple[float, float], ...]
    std: float
    description: str

    dim = 2

    @property
    def has_modes(self) -> bool:
        return True


@dataclass(frozen=True)
class SwissRollLayout:
    """sklearn's swiss roll (x, z coordinates) with noise 0.25, divided by 7.5."""

    name: str
    noise: float
    scale: float
    description: str

    dim = 2

    @property
    def has_modes(self) -> bool:
        return False


ToyLayout = MixtureLayout | SwissRollLayout


def _ring8_reference() -> MixtureLayout:
    s = 1 / math.sqrt(2)
    unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    centers = tuple((2 * x / 1.414, 2 * y / 1.414) for x, y in unit)
    return MixtureLayout(
        "ring8", centers, 0.02 / 1.414, "8 Gaussians on a ring (WGAN-GP toy code)"
    )


def _grid25_reference() -> MixtureLayout:
    centers = tuple(
        (2 * x / 2.828, 2 * y / 2.828) for x in range(-2, 3) for y in range(-2, 3)
    )
    return MixtureLayout(
        "grid25", centers, 0.05 / 2.828, "25 Gaussians on a grid (WGAN-GP toy code)"
    )


def _ring8_pacgan() -> MixtureLayout:
    centers = tuple(
        (math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)) for i in range(8)
    )
    return MixtureLayout("ring8-pacgan", centers, 0.01, "PacGAN/VEEGAN ring: 8 modes, std 0.01")


def _grid25_pacgan() -> MixtureLayout:
    centers = tuple((float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4))
    return MixtureLayout("grid25-pacgan", centers, 0.05, "PacGAN/VEEGAN grid: 25 modes, std 0.05")


TOY_LAYOUTS: dict[str, ToyLayout] = {
    d.name: d
    for d in (
        _ring8_reference(),
        _grid25_reference(),
        SwissRollLayout("swissroll", 0.25, 7.5, "swiss roll (WGAN-GP toy code)"),
        _ring8_pacgan(),
        _grid25_pacgan(),
    )
}
