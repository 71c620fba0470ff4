"""MLPs for 2-D data, with K independent members in one module (seed batching).

Parameters carry a leading member dimension ``K`` and layers are batched matmuls, so K runs
that differ only in seed train in one set of kernels. Members share no parameters, and the
losses are sums over members, so every member's gradient and optimiser update (Adam, RMSProp
and SGD are element-wise) are exactly what it would get trained alone.

The benchmark's MLPs are ReLU networks without normalisation (the WGAN-GP toy code); the
activation and a hidden-layer normalisation can be chosen for other shapes (the random
architectures of the WGAN-GP paper's Table 2).
"""

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.architectures.declarations import ACTIVATIONS


class PaperSoftplus(nn.Module):
    """softplus(2x + 2) / 2 - 1: the WGAN-GP paper's smooth ReLU of its random
    architectures (Table 2's space)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(2 * x + 2) / 2 - 1


ACTIVATION_LAYERS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leakyrelu": lambda: nn.LeakyReLU(0.2),
    "softplus": PaperSoftplus,
    "tanh": nn.Tanh,
}
"""Each declared activation's layer (``declarations.ACTIVATIONS``), by its name."""
MLP_NORMS = ("none", "batch", "layer")


class EnsembleNorm(nn.Module):
    """Batch norm (each unit over the batch) or layer norm (each sample over its units) of
    every member separately, with a per-member gain and offset: [K, B, F] -> [K, B, F].

    Batch statistics always, in training and evaluation alike: the benchmark generates
    samples from networks in training mode (the WGAN-GP code's protocol), so there are no
    running statistics. torch's fused norms: far fewer kernels under a gradient penalty's
    double backward than the same formula written out."""

    def __init__(self, members: int, features: int, kind: str, eps: float = 1e-5) -> None:
        super().__init__()
        if kind not in ("batch", "layer"):
            raise ValueError(f"unknown norm '{kind}'; valid: batch, layer")
        self.kind, self.eps = kind, eps
        self.weight = nn.Parameter(torch.ones(members, 1, features))
        self.bias = nn.Parameter(torch.zeros(members, 1, features))

    def forward(self, x: Tensor) -> Tensor:
        if self.kind == "layer":
            return F.layer_norm(x, x.shape[-1:], eps=self.eps) * self.weight + self.bias
        k, b, f = x.shape  # each member's units are channels of one [B, K * F] batch norm
        y = F.batch_norm(x.transpose(0, 1).reshape(b, k * f), None, None,
                         self.weight.reshape(-1), self.bias.reshape(-1), training=True,
                         eps=self.eps)
        return y.reshape(b, k, f).transpose(0, 1)


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
    """MLP with ``depth`` hidden layers of ``width`` units, K members at once: each hidden
    layer is affine, then ``norm`` (none, batch or layer; see EnsembleNorm), then
    ``activation`` (a name in ACTIVATIONS)."""

    def __init__(
        self,
        generators: list[torch.Generator],
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation: str = "relu",
        norm: str = "none",
    ) -> None:
        super().__init__()
        if norm not in MLP_NORMS:
            raise ValueError(f"unknown norm '{norm}'; valid: {', '.join(MLP_NORMS)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}'; valid: "
                             f"{', '.join(ACTIVATIONS)}")
        dims = [in_dim] + [width] * depth + [out_dim]
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(EnsembleLinear(generators, fan_in, fan_out))
            if i < len(dims) - 2:
                if norm != "none":
                    layers.append(EnsembleNorm(len(generators), fan_out, norm))
                layers.append(ACTIVATION_LAYERS[activation]())
        self.net = nn.Sequential(*layers)
        self.members = len(generators)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class EnsembleCritic(EnsembleMLP):
    """An MLP critic returning one score per sample: [K, B, d] -> [K, B]."""

    def __init__(
        self, generators: list[torch.Generator], data_dim: int, width: int, depth: int,
        activation: str = "relu", norm: str = "none",
    ) -> None:
        super().__init__(generators, data_dim, 1, width, depth, activation, norm)

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
