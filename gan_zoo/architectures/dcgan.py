"""DCGAN generators and critics for square images, and the WGAN paper's stability variants.

Shapes: generators map z [B, nz] to images [B, C, S, S] in [-1, 1] (tanh); critics map images
to raw scores [B] (no sigmoid: the losses decide what a score means).

The layout follows the WGAN reference code's DCGAN_G / DCGAN_D: stride-2 (transposed)
convolutions that double (halve) the filter count per resolution step, batch norm after every
generator layer but the last and every critic layer but the first and last, ReLU in the
generator, LeakyReLU(0.2) in the critic. It generalises the reference's "multiple of 16" rule
to any S = b * 2^k with 4 <= b < 8: the generator projects z to b x b (a transposed conv with
kernel b) and the critic ends with a conv of kernel b. So 16, 32 and 64 px run at b = 4 like
the reference, and 28 px (MNIST) at b = 7: 7 -> 14 -> 28.

Departures from the reference, each for a reason:
- a layer has a bias unless batch norm follows it (the reference never has one): without
  normalisation a bias-free ReLU network is positively homogeneous in its input;
- the critic returns one score per sample instead of the batch mean, so losses stay pure
  functions of [B] scores;
- "dcgan-nobn-g" keeps a constant filter count, as the WGAN paper describes its experiment
  (the reference's DCGAN_G_nobn only drops batch norm and still doubles the filters);
- the MLP generator has the paper's 4 hidden layers of 512 (the reference MLP_G has 3) and a
  tanh output (MLP_G's is linear), so its samples share the data's [-1, 1] range.
"""

from torch import Tensor, nn

from gan_zoo.architectures.declarations import CRITIC_NORMS, IMAGE_ARCHS, PluginArch


def _pyramid(image_size: int) -> tuple[int, int]:
    """(b, k) with image_size = b * 2^k, 4 <= b < 8, k >= 1."""
    base, steps = image_size, 0
    while base >= 8 and base % 2 == 0:
        base, steps = base // 2, steps + 1
    if steps == 0 or base < 4 or base >= 8:
        raise ValueError(
            f"image size {image_size} is not supported by the DCGANs: it must be b * 2^k with "
            "4 <= b < 8 and k >= 1 (e.g. 16, 28, 32, 64)"
        )
    return base, steps


def _up(c_in: int, c_out: int, kernel_size: int, bias: bool) -> nn.ConvTranspose2d:
    """Transposed conv that doubles H and W for kernel 4 (pad 1) or 5 (pad 2, out pad 1)."""
    return nn.ConvTranspose2d(
        c_in,
        c_out,
        kernel_size,
        stride=2,
        padding=(kernel_size - 1) // 2,
        output_padding=kernel_size % 2,
        bias=bias,
    )


def _down(c_in: int, c_out: int, kernel_size: int, bias: bool) -> nn.Conv2d:
    """Conv that halves even H and W for kernel 4 (pad 1) or 5 (pad 2)."""
    return nn.Conv2d(c_in, c_out, kernel_size, stride=2, padding=(kernel_size - 1) // 2, bias=bias)


def _critic_norm(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        # normalise each sample over (C, H, W) with a per-channel gain and offset: the WGAN-GP
        # code's layer norm, which keeps the per-sample gradient penalty valid
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def init_dcgan_weights(module: nn.Module) -> None:
    """The reference initialisation: conv weights ~ N(0, 0.02), batch-norm gains ~ N(1, 0.02),
    biases 0. Other layers keep PyTorch's default (the reference only touches these)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z [B, nz] -> [B, C, S, S]. ``constant_filters`` keeps ``base_filters`` at every layer
    instead of doubling them per step down in resolution (the WGAN paper's weak generator).

    Without batch norm the reference N(0, 0.02) init shrinks the signal about 20x per layer, so
    such a generator starts out emitting near-constant grey images (std ~1e-3 at 32 px); as in
    the reference code, the optimiser has to grow the weights.
    """

    def __init__(
        self,
        image_size: int,
        channels: int,
        latent_dim: int,
        base_filters: int = 64,
        kernel_size: int = 4,
        batch_norm: bool = True,
        constant_filters: bool = False,
    ) -> None:
        super().__init__()
        base, steps = _pyramid(image_size)
        # widths from the b x b projection up to S/2: base_filters * 2^(steps-1) ... base_filters
        widths = [
            base_filters * (1 if constant_filters else 2 ** (steps - 1 - i)) for i in range(steps)
        ]
        layers: list[nn.Module] = []
        for i, width in enumerate(widths):
            if i == 0:  # z as a 1x1 map -> base x base
                layers.append(nn.ConvTranspose2d(latent_dim, width, base, bias=not batch_norm))
            else:
                layers.append(_up(widths[i - 1], width, kernel_size, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU())
        layers += [_up(widths[-1], channels, kernel_size, bias=True), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim
        init_dcgan_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.reshape(z.shape[0], self.latent_dim, 1, 1))


class DCGANCritic(nn.Module):
    """[B, C, S, S] -> scores [B]. ``norm``: "batch" (GAN, WGAN with clipping), "layer" or
    "none" (gradient penalty, where batch norm would couple the samples of a batch)."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        base_filters: int = 64,
        kernel_size: int = 4,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if norm not in CRITIC_NORMS:
            raise ValueError(f"unknown critic norm '{norm}'; valid: {', '.join(CRITIC_NORMS)}")
        base, steps = _pyramid(image_size)
        widths = [base_filters * 2**i for i in range(steps)]  # at S/2 ... b
        layers: list[nn.Module] = [
            _down(channels, widths[0], kernel_size, bias=True),
            nn.LeakyReLU(0.2),
        ]
        for c_in, c_out in zip(widths, widths[1:], strict=False):
            layers += [
                _down(c_in, c_out, kernel_size, bias=norm != "batch"),
                _critic_norm(norm, c_out),
                nn.LeakyReLU(0.2),
            ]
        layers.append(nn.Conv2d(widths[-1], 1, base))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).view(x.shape[0])


class MLPImageGenerator(nn.Module):
    """z [B, nz] -> [B, C, S, S] through ``depth`` hidden ReLU layers of ``width`` units and a
    tanh output: the WGAN paper's MLP generator (4 x 512)."""

    def __init__(
        self, image_size: int, channels: int, latent_dim: int, width: int = 512, depth: int = 4
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        fan_in = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            fan_in = width
        layers += [nn.Linear(fan_in, channels * image_size * image_size), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.image_shape = (channels, image_size, image_size)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).reshape(z.shape[0], *self.image_shape)


def build_image_models(
    arch: str,
    *,
    image_size: int,
    channels: int,
    latent_dim: int,
    critic_norm: str,
    base_filters: int | None = None,
) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for ``arch``. ``base_filters`` overrides the preset's DCGAN width
    (both networks; the critic only for "mlp-g"). ``critic_norm`` is "batch", "layer" or
    "none"; batch norm is invalid with a gradient penalty, which the recipe must respect. A
    plugin's architecture is its builder's, given the same values."""
    spec = IMAGE_ARCHS.get(arch)
    if spec is None:
        raise ValueError(f"unknown image architecture '{arch}'; valid: {', '.join(IMAGE_ARCHS)}")
    if isinstance(spec, PluginArch):
        return spec.build(image_size=image_size, channels=channels, latent_dim=latent_dim,
                          critic_norm=critic_norm, filters=base_filters)
    filters = spec.base_filters if base_filters is None else base_filters
    critic = DCGANCritic(image_size, channels, filters, spec.kernel_size, critic_norm)
    generator: nn.Module
    if spec.generator == "mlp":
        generator = MLPImageGenerator(image_size, channels, latent_dim)
    else:
        no_bn = spec.generator == "dcgan-nobn"
        generator = DCGANGenerator(
            image_size,
            channels,
            latent_dim,
            filters,
            spec.kernel_size,
            batch_norm=not no_bn,
            constant_filters=no_bn,
        )
    return generator, critic
