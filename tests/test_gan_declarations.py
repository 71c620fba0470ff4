"""The zoo's torch-free declarations and their implementations agree: every declared GAN has a
loss and constraint and a recipe for each data domain, every declared activation and critic
norm builds, and nothing is implemented that is not declared."""

from dataclasses import fields

import pytest
import torch

from gan_zoo.architectures.dcgan import DCGANCritic
from gan_zoo.architectures.declarations import ACTIVATIONS, CRITIC_NORMS
from gan_zoo.architectures.mlp import ACTIVATION_LAYERS, EnsembleMLP
from gan_zoo.declarations import GAN_SPECS, GanSpec
from gan_zoo.recipes import DOMAINS, RECIPES
from gan_zoo.registry import GANS


def test_every_declared_gan_is_implemented_as_declared():
    assert list(GANS) == list(GAN_SPECS)
    for name, gan in GANS.items():
        assert all(getattr(gan, f.name) == getattr(GAN_SPECS[name], f.name)
                   for f in fields(GanSpec))


def test_every_declared_gan_has_a_recipe_for_each_domain_and_no_other_gan_has_one():
    assert set(RECIPES) == {(gan, domain) for gan in GAN_SPECS for domain in DOMAINS}


def test_every_declared_activation_builds_and_no_other():
    assert set(ACTIVATION_LAYERS) == set(ACTIVATIONS)
    streams = [torch.Generator().manual_seed(0)]
    for activation in ACTIVATIONS:
        mlp = EnsembleMLP(streams, 2, 1, width=4, depth=1, activation=activation)
        assert mlp(torch.zeros(1, 3, 2)).shape == (1, 3, 1)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        EnsembleMLP(streams, 2, 1, width=4, depth=1, activation="gelu")


@pytest.mark.parametrize("norm", CRITIC_NORMS)
def test_every_declared_critic_norm_builds(norm):
    critic = DCGANCritic(16, 1, base_filters=4, norm=norm)
    assert critic(torch.zeros(2, 1, 16, 16)).shape == (2,)
