"""DCGAN architectures: shapes per size, normalisation options, presets, trainability."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.architectures.dcgan import (
    IMAGE_ARCHS,
    DCGANCritic,
    DCGANGenerator,
    build_image_models,
)

SIZES = (16, 28, 32, 64)


def convs(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]


def has(module: nn.Module, kind: type) -> bool:
    return any(isinstance(m, kind) for m in module.modules())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("arch", list(IMAGE_ARCHS))
def test_shapes_and_output_range(arch, size):
    torch.manual_seed(0)
    channels = 1 if size == 28 else 3
    g, d = build_image_models(
        arch,
        image_size=size,
        channels=channels,
        latent_dim=10,
        critic_norm="layer",
        base_filters=8,
    )
    x = g(torch.randn(4, 10) * 100)  # a wide z pushes pixels towards the tanh limits
    assert x.shape == (4, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (4,)


def test_reference_widths_at_64px():
    # the reference DCGAN_G/DCGAN_D with ngf = ndf = 64: 512 filters at 4x4
    g, d = build_image_models(
        "dcgan", image_size=64, channels=3, latent_dim=100, critic_norm="batch"
    )
    assert [c.out_channels for c in convs(g)] == [512, 256, 128, 64, 3]
    assert [c.out_channels for c in convs(d)] == [64, 128, 256, 512, 1]
    assert convs(g)[0].kernel_size == (4, 4) and convs(d)[-1].kernel_size == (4, 4)


def test_wgangp_cifar_preset():
    # the WGAN-GP paper's CIFAR-10 DCGAN: 4*DIM at 4x4 -> 2*DIM -> DIM -> 3, 5x5 kernels
    g, d = build_image_models(
        "dcgan-wgangp", image_size=32, channels=3, latent_dim=128, critic_norm="none"
    )
    assert [c.out_channels for c in convs(g)] == [512, 256, 128, 3]
    assert [c.out_channels for c in convs(d)] == [128, 256, 512, 1]
    assert all(c.kernel_size == (5, 5) for c in convs(g)[1:] + convs(d)[:-1])
    assert g(torch.randn(2, 128)).shape == (2, 3, 32, 32)


def test_28px_runs_at_7x7():
    g = DCGANGenerator(28, 1, latent_dim=16, base_filters=8)
    d = DCGANCritic(28, 1, base_filters=8)
    assert convs(g)[0].kernel_size == (7, 7) and convs(d)[-1].kernel_size == (7, 7)
    assert [c.out_channels for c in convs(g)] == [16, 8, 1]


@pytest.mark.parametrize(("norm", "kind"), [("none", None), ("layer", nn.GroupNorm)])
def test_critic_without_batch_norm_scores_samples_independently(norm, kind):
    torch.manual_seed(0)
    d = DCGANCritic(32, 3, base_filters=8, norm=norm).train()
    assert not has(d, nn.BatchNorm2d)
    assert kind is None or has(d, kind)
    assert norm != "none" or not has(d, nn.GroupNorm)
    x = torch.randn(6, 3, 32, 32)
    # in train mode too: a gradient penalty needs each score to depend on its own sample only
    assert torch.allclose(d(x)[:2], d(x[:2]), atol=1e-6)


def test_batch_norm_critic_has_batch_norm_and_no_bias_before_it():
    d = DCGANCritic(32, 3, base_filters=8, norm="batch")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 2
    assert [c.bias is None for c in convs(d)] == [False, True, True, False]


def test_stability_variants():
    g, _ = build_image_models(
        "dcgan-nobn-g", image_size=64, channels=3, latent_dim=100, critic_norm="batch"
    )
    assert not has(g, nn.BatchNorm2d)
    assert [c.out_channels for c in convs(g)] == [64, 64, 64, 64, 3]  # constant filter count
    g, d = build_image_models(
        "mlp-g", image_size=28, channels=1, latent_dim=100, critic_norm="batch"
    )
    linears = [m for m in g.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [512, 512, 512, 512, 28 * 28]
    assert sum(isinstance(m, nn.ReLU) for m in g.modules()) == 4
    assert isinstance(d, DCGANCritic)


def test_reference_initialisation():
    torch.manual_seed(0)
    g = DCGANGenerator(64, 3, latent_dim=100)
    conv_weights = torch.cat([c.weight.flatten() for c in convs(g)])
    assert conv_weights.mean().abs() < 1e-3 and abs(conv_weights.std() - 0.02) < 1e-3
    gains = torch.cat([m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(gains.mean() - 1) < 5e-3 and abs(gains.std() - 0.02) < 5e-3


@pytest.mark.parametrize("arch", list(IMAGE_ARCHS))
def test_optimizer_steps_change_every_parameter(arch):
    torch.manual_seed(0)
    g, d = build_image_models(
        arch, image_size=16, channels=3, latent_dim=8, critic_norm="batch", base_filters=8
    )
    before = [p.detach().clone() for p in [*g.parameters(), *d.parameters()]]
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3)
    real = torch.rand(8, 3, 16, 16) * 2 - 1
    ones, zeros = torch.ones(8), torch.zeros(8)
    for _ in range(2):
        # the standard GAN loss: unlike a Wasserstein loss it also moves the output bias
        fake = g(torch.randn(8, 8))
        loss_d = F.binary_cross_entropy_with_logits(
            d(real), ones
        ) + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(d(g(torch.randn(8, 8))), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    after = [*g.parameters(), *d.parameters()]
    assert all(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_bad_names_and_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="valid: dcgan, dcgan-wgangp, dcgan-nobn-g, mlp-g"):
        build_image_models("resnet", image_size=32, channels=3, latent_dim=8, critic_norm="none")
    with pytest.raises(ValueError, match="valid: batch, layer, none"):
        build_image_models("dcgan", image_size=32, channels=3, latent_dim=8, critic_norm="spec")
    for size in (7, 36, 100):
        with pytest.raises(ValueError, match=f"image size {size} is not supported"):
            DCGANCritic(size, 3)
