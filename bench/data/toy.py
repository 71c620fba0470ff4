"""2-D toy distributions, sampled on the training device from per-member streams.

Parameters follow the WGAN-GP reference toy code and PacGAN's presets (see DESIGN.md):
- ``ring8``: centres (+-1, 0), (0, +-1), (+-1/sqrt2, +-1/sqrt2) times 2, noise std 0.02, the
  whole batch divided by 1.414 (radius ~1.414, std ~0.0141);
- ``grid25``: centres (2x, 2y) for x, y in -2..2, noise std 0.05, divided by 2.828;
- ``swissroll``: sklearn's ``make_swiss_roll(noise=0.25)[:, [0, 2]] / 7.5``, re-implemented in
  torch so it is sampled on the device;
- ``ring8-pacgan``: means (cos 2 pi i/8, sin 2 pi i/8), std 0.01;
- ``grid25-pacgan``: means {-4, -2, 0, 2, 4}^2, std 0.05.
"""

import functools
import math
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from bench.core.errors import BenchError


class Streams(Protocol):
    members: int

    def randn(self, shape: tuple[int, ...]) -> Tensor: ...
    def rand(self, shape: tuple[int, ...]) -> Tensor: ...
    def randint(self, high: int, shape: tuple[int, ...]) -> Tensor: ...


@dataclass(frozen=True)
class GaussianMixture:
    """Equal-weight isotropic Gaussian mixture; its modes define mode coverage."""

    name: str
    centers: tuple[tuple[float, float], ...]
    std: float
    description: str

    dim = 2

    @property
    def has_modes(self) -> bool:
        return True

    def centers_tensor(self, device: torch.device | str = "cpu") -> Tensor:
        """The centres on ``device``, made once per device and shared: read, don't modify."""
        return _centers_on(self.centers, str(device))

    def sample(self, streams: Streams, n: int) -> Tensor:
        """[K, n, 2] samples, member k from stream k."""
        centers = self.centers_tensor(streams.device)
        idx = streams.randint(len(self.centers), (n,))
        return centers[idx] + self.std * streams.randn((n, 2))


@dataclass(frozen=True)
class SwissRoll:
    """sklearn's swiss roll (x, z coordinates) with noise 0.25, divided by 7.5."""

    name: str
    noise: float
    scale: float
    description: str

    dim = 2

    @property
    def has_modes(self) -> bool:
        return False

    def sample(self, streams: Streams, n: int) -> Tensor:
        # sklearn: t = 1.5 pi (1 + 2 u), x = t cos t, z = t sin t, plus N(0, noise^2) per axis
        t = 1.5 * math.pi * (1 + 2 * streams.rand((n, 1)))
        clean = torch.cat([t * torch.cos(t), t * torch.sin(t)], dim=-1)
        return (clean + self.noise * streams.randn((n, 2))) / self.scale


ToyDataset = GaussianMixture | SwissRoll


@functools.cache
def _centers_on(centers: tuple[tuple[float, float], ...], device: str) -> Tensor:
    """The mixture's centres on ``device``, copied there once: a copy per batch would make the
    host wait for the device at every step (and cannot be captured in a CUDA graph)."""
    return torch.tensor(centers, dtype=torch.float32, device=device)


def _ring8_reference() -> GaussianMixture:
    s = 1 / math.sqrt(2)
    unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    centers = tuple((2 * x / 1.414, 2 * y / 1.414) for x, y in unit)
    return GaussianMixture(
        "ring8", centers, 0.02 / 1.414, "8 Gaussians on a ring (WGAN-GP toy code)"
    )


def _grid25_reference() -> GaussianMixture:
    centers = tuple(
        (2 * x / 2.828, 2 * y / 2.828) for x in range(-2, 3) for y in range(-2, 3)
    )
    return GaussianMixture(
        "grid25", centers, 0.05 / 2.828, "25 Gaussians on a grid (WGAN-GP toy code)"
    )


def _ring8_pacgan() -> GaussianMixture:
    centers = tuple(
        (math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)) for i in range(8)
    )
    return GaussianMixture("ring8-pacgan", centers, 0.01, "PacGAN/VEEGAN ring: 8 modes, std 0.01")


def _grid25_pacgan() -> GaussianMixture:
    centers = tuple((float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4))
    return GaussianMixture("grid25-pacgan", centers, 0.05, "PacGAN/VEEGAN grid: 25 modes, std 0.05")


TOY_DATASETS: dict[str, ToyDataset] = {
    d.name: d
    for d in (
        _ring8_reference(),
        _grid25_reference(),
        SwissRoll("swissroll", 0.25, 7.5, "swiss roll (WGAN-GP toy code)"),
        _ring8_pacgan(),
        _grid25_pacgan(),
    )
}


def get_toy_dataset(name: str) -> ToyDataset:
    """The toy dataset called ``name``; a BenchError lists the valid names otherwise."""
    try:
        return TOY_DATASETS[name]
    except KeyError:
        raise BenchError(
            f"unknown dataset '{name}'; valid: {', '.join(TOY_DATASETS)}"
        ) from None
