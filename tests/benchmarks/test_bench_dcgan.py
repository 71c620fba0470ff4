"""Throughput of one training iteration of a small DCGAN: one discriminator step and one
generator step with the DCGAN recipe (non-saturating GAN loss, Adam 2e-4, beta1 0.5).

The real batch is fixed, so image loading is not timed; extra_info holds real images (and
steps) per second.
"""

import pytest
import torch

from gan_zoo.architectures import dcgan
from gan_zoo.losses import bce_discriminator_loss, nonsaturating_generator_loss
from tests.benchmarks.conftest import bench_device, record_rates, synchronised

IMAGE_SIZE, CHANNELS, LATENT_DIM, FILTERS, BATCH = 32, 3, 100, 32, 64


@pytest.mark.benchmark(group="dcgan-iteration")
def test_dcgan_training_iteration(benchmark):
    device = bench_device()
    torch.manual_seed(0)
    generator, critic = dcgan.build_image_models(
        "dcgan", image_size=IMAGE_SIZE, channels=CHANNELS, latent_dim=LATENT_DIM,
        critic_norm="batch", base_filters=FILTERS,
    )
    generator.to(device)
    critic.to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(BATCH, CHANNELS, IMAGE_SIZE, IMAGE_SIZE, device=device) * 2 - 1

    def iteration() -> torch.Tensor:
        # the losses take [K, B] scores; a plain DCGAN is one member, hence [None]
        z = torch.randn(BATCH, LATENT_DIM, device=device)
        with torch.no_grad():
            fake = generator(z)
        loss_d = bce_discriminator_loss(critic(real)[None], critic(fake)[None]).sum()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        critic.requires_grad_(False)  # the generator step needs no critic gradients
        loss_g = nonsaturating_generator_loss(critic(generator(z))[None]).sum()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        critic.requires_grad_(True)
        return loss_g.detach()

    loss = benchmark(synchronised(iteration, device))
    assert torch.isfinite(loss)
    record_rates(benchmark, device, generator_steps=1, critic_steps=1, images=BATCH)
