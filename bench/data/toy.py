"""2-D toy distributions (``toy_layouts.py``) sampled on the training device from per-member
streams; the swiss roll is sklearn's re-implemented in torch so it is sampled on the device."""

import functools
import math
from dataclasses import asdict
from typing import Protocol

import torch
from torch import Tensor

from bench.core.errors import BenchError
from bench.data.toy_layouts import TOY_LAYOUTS, MixtureLayout, SwissRollLayout


class Streams(Protocol):
    members: int

    def randn(self, shape: tuple[int, ...]) -> Tensor: ...
    def rand(self, shape: tuple[int, ...]) -> Tensor: ...
    def randint(self, high: int, shape: tuple[int, ...]) -> Tensor: ...


class GaussianMixture(MixtureLayout):
    """A mixture's layout, sampled on the device."""

    def centers_tensor(self, device: torch.device | str = "cpu") -> Tensor:
        """The centres on ``device``, made once per device and shared: read, don't modify."""
        return _centers_on(self.centers, str(device))

    def sample(self, streams: Streams, n: int) -> Tensor:
        """[K, n, 2] samples, member k from stream k."""
        centers = self.centers_tensor(streams.device)
        idx = streams.randint(len(self.centers), (n,))
        return centers[idx] + self.std * streams.randn((n, 2))


class SwissRoll(SwissRollLayout):
    """The swiss roll's layout, sampled on the device."""

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


_SAMPLERS = {MixtureLayout: GaussianMixture, SwissRollLayout: SwissRoll}
TOY_DATASETS: dict[str, ToyDataset] = {
    name: _SAMPLERS[type(layout)](**asdict(layout)) for name, layout in TOY_LAYOUTS.items()
}


def get_toy_dataset(name: str) -> ToyDataset:
    """The toy dataset called ``name``; a BenchError lists the valid names otherwise."""
    try:
        return TOY_DATASETS[name]
    except KeyError:
        raise BenchError(
            f"unknown dataset '{name}'; valid: {', '.join(TOY_DATASETS)}"
        ) from None
