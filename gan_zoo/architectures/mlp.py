"""MLPs for 2-D data, with K independent members in one module (seed batching).

Parameters carry a leading member dimension ``K`` and layers are batched matmuls, so K runs
that differ only in seed train in one set of kernels. Members share no parameters, and the
losses are sums over members, so every member's gradient and optimiser update (Adam, RMSProp
and SGD are element-wise) are exactly what it would get trained alone.
"""

import math

import torch
from torch import Tensor, nn


class EnsembleLinear(nn.Module):
    """K independent affine maps: [K, B, fan_in] -> [K, B, fan_out]."""

    def __init__(self, generators: list[torch.Generator], fan_in: int, fan_out: int) -> None:
        super().__init__()
        k = len(generators)
        self.weight = nn.Parameter(torch.empty(k, fan_in, fan_out))
        self.bias = nn.Parameter(torch.empty(k, 1, fan_out))
        # nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from each
        # member's own stream so a member's start does not depend on K
        bound = 1 / math.sqrt(fan_in)
        with torch.no_grad():
            for member, gen in enumerate(generators):
                self.weight[member].uniform_(-bound, bound, generator=gen)
                self.bias[member].uniform_(-bound, bound, generator=gen)

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """ReLU MLP with ``depth`` hidden layers of ``width`` units, K members at once."""

    def __init__(
        self,
        generators: list[torch.Generator],
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
    ) -> None:
        super().__init__()
        dims = [in_dim] + [width] * depth + [out_dim]
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(EnsembleLinear(generators, fan_in, fan_out))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.members = len(generators)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class EnsembleCritic(EnsembleMLP):
    """An MLP critic returning one score per sample: [K, B, d] -> [K, B]."""

    def __init__(
        self, generators: list[torch.Generator], data_dim: int, width: int, depth: int
    ) -> None:
        super().__init__(generators, data_dim, 1, width, depth)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)

    def linear_layers(self) -> list[EnsembleLinear]:
        """The affine layers in order (for per-layer diagnostics)."""
        return [m for m in self.net if isinstance(m, EnsembleLinear)]


def build_toy_models(
    generators: list[torch.Generator], data_dim: int, latent_dim: int, width: int, depth: int
) -> tuple[EnsembleMLP, EnsembleCritic]:
    """Generator and critic of the WGAN-GP toy code (3 x 512 ReLU there), K members each.

    The generator is built first, then the critic, from the same member streams, so a
    member's initial weights depend only on its seed.
    """
    generator = EnsembleMLP(generators, latent_dim, data_dim, width, depth)
    critic = EnsembleCritic(generators, data_dim, width, depth)
    return generator, critic
