"""The fused MLP step (gan_zoo/fused_mlp.py) against autograd, the reference.

float64, the proof that the maths is the same: one gradient evaluation of each network
(``gan_zoo.critic_step.critic_gradient``, the trainer's autograd path), and one whole
iteration of the trainer (its critic steps with their projections, the generator step, every
optimizer's update and extrapolation), agree with autograd within 1e-10, for each GAN (no
constraint, weight clipping, the gradient penalty with one weight per member), K = 1 and 6
members, critics of depth 1 to 4, ReLU and LeakyReLU.

float32: one iteration within 1e-5 of autograd, where float32 can say so. The clipped WGAN
critic's gradient is a difference of two nearly equal sums (weights at +-0.01, so nearly
constant activations): there autograd itself is ~3e-4 of the gradient's scale away from the
exact (float64) gradient, and so is any other order of the same sums; the test checks that
the fused gradient is as close to the exact one as autograd's.

Relative difference: the largest |a - b| over a network's tensors divided by the largest |b|
among them (the infinity norm of the whole gradient or parameter vector): a gradient that
autograd gives as exactly zero (the WGAN loss's real and fake halves at an always-active
unit's bias) has no scale of its own.
"""

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
import torch
from torch import Tensor, nn

from bench.config.suite import expand, parse_suite
from bench.core.environment import Environment
from bench.training.accel.policy import FUSED_COMPILE_NOTE, plan_acceleration, plan_fused
from bench.training.member_optimizers import MEMBER_OPTIMIZERS
from bench.training.trainer import GroupTrainer
from gan_zoo.architectures.mlp import EnsembleCritic, EnsembleMLP
from gan_zoo.constraints import GradientPenalty, WeightClipping
from gan_zoo.critic_step import critic_gradient
from gan_zoo.fused_mlp import FusedMLPGradients, unfit
from gan_zoo.registry import GANS
from tests.conftest import tiny_suite

CPU = torch.device("cpu")
FLOAT64_BOUND, FLOAT32_BOUND = 1e-10, 1e-5


def relative_difference(a: Sequence[Tensor], b: Sequence[Tensor]) -> float:
    a, b = [x.detach().double() for x in a], [y.detach().double() for y in b]
    worst = max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))
    return worst / max(float(y.abs().max()) for y in b)


@contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _grads(network: nn.Module) -> list[Tensor]:
    return [p.grad.clone() for p in network.parameters()]


def _constraint(gan: str, members: int):
    """The GAN's constraint, with one value per member (a [K] tensor) for K > 1."""
    recipe_values = {"wgan-clip": (WeightClipping, 0.01), "wgan-gp": (GradientPenalty, 10.0)}
    if gan not in recipe_values:
        return GANS[gan].make_constraint(None)
    kind, value = recipe_values[gan]
    return kind(value if members == 1 else torch.linspace(value / 10, value, members))


def _networks(members: int, depth: int, activation: str) -> tuple[EnsembleMLP, EnsembleCritic]:
    gens = [torch.Generator().manual_seed(seed) for seed in range(members)]
    return (EnsembleMLP(gens, 2, 2, 16, 3, activation),
            EnsembleCritic(gens, 2, 16, depth, activation))


def _uniform(members: int):
    """The penalty's draws, the same numbers at every call (each path draws once)."""
    return lambda shape: torch.rand((members, *shape), generator=torch.Generator().manual_seed(7))


# --- one gradient evaluation, float64 ---------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "leakyrelu"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("members", [1, 6])
@pytest.mark.parametrize("gan", list(GANS))
def test_gradients_equal_autograds_in_float64(gan, members, depth, activation):
    with default_dtype(torch.float64):
        generator, critic = _networks(members, depth, activation)
        constraint, loss = _constraint(gan, members), GANS[gan].loss
        assert unfit(generator, critic, constraint) is None
        fused = FusedMLPGradients(generator, critic)
        real, latent = torch.randn(members, 32, 2), torch.randn(members, 32, 2)
        with torch.no_grad():
            fake = generator(latent)
        assert relative_difference([fused.generate(latent)], [fake]) < FLOAT64_BOUND

        reference = critic_gradient(critic, loss.critic, constraint,
                                    torch.optim.SGD(critic.parameters()), real, fake,
                                    _uniform(members))
        expected = _grads(critic)
        losses = fused.critic_gradient(loss.critic, constraint, real, fake, _uniform(members))
        assert relative_difference(_grads(critic), expected) < FLOAT64_BOUND
        assert relative_difference([losses.total], [reference.total.detach()]) < FLOAT64_BOUND

        critic.requires_grad_(False)
        loss.generator(critic(generator(latent))).sum().backward()
        critic.requires_grad_(True)
        expected = _grads(generator)
        value = fused.generator_gradient(loss.generator, latent)
        assert relative_difference(_grads(generator), expected) < FLOAT64_BOUND
        assert relative_difference([value], [loss.generator(critic(fake)).detach()]) < 1e-10


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_the_penalty_gradient_alone_equals_autograds_in_float64(depth):
    """A zero critic loss leaves the double backward's parameter gradient by itself."""
    def no_loss(real: Tensor, fake: Tensor) -> Tensor:
        return 0 * (real.mean(-1) + fake.mean(-1))

    with default_dtype(torch.float64):
        generator, critic = _networks(6, depth, "relu")
        penalty = _constraint("wgan-gp", 6)
        real, fake = torch.randn(6, 32, 2), torch.randn(6, 32, 2)
        critic_gradient(critic, no_loss, penalty, torch.optim.SGD(critic.parameters()),
                        real, fake, _uniform(6))
        expected = _grads(critic)
        FusedMLPGradients(generator, critic).critic_gradient(no_loss, penalty, real, fake,
                                                             _uniform(6))
        weights = slice(0, None, 2)  # biases get no penalty gradient: zero both ways
        assert relative_difference(_grads(critic)[weights], expected[weights]) < FLOAT64_BOUND
        assert all(float(g.abs().max()) == 0 for g in _grads(critic)[1::2])


# --- one iteration of the trainer -------------------------------------------------------------


def _trainers(gan: str, optimizer: str, members: int, dtype: torch.dtype):
    """The same group trained with the fused step and with autograd, one iteration each."""
    specs = expand(parse_suite(tiny_suite(
        gans=[gan], optimizers=[optimizer], seeds=members, batch_size=64,
        model={"width": 32, "depth": 3, "latent_dim": 2})))
    with default_dtype(dtype):
        fused, plain = (GroupTrainer(specs, CPU, Environment(fused=mode)) for mode in ("on", "off"))
        assert fused.fused is not None and plain.fused is None
        n_critic = fused.schedule.critic_steps_before(0)
        fused.iteration(n_critic)
        plain.iteration(n_critic)
    return fused, plain


def _iteration_differences(fused: GroupTrainer, plain: GroupTrainer) -> dict[str, float]:
    out = {}
    for name in ("generator", "critic"):
        a, b = getattr(fused, name), getattr(plain, name)
        out[f"{name} parameters"] = relative_difference(list(a.parameters()),
                                                        list(b.parameters()))
        out[f"{name} gradients"] = relative_difference(_grads(a), _grads(b))
    out["losses"] = relative_difference(list(fused.sums.values()), list(plain.sums.values()))
    return out


@pytest.mark.parametrize("gan", list(GANS))
@pytest.mark.parametrize("optimizer", list(MEMBER_OPTIMIZERS))
def test_one_iteration_equals_autograds_in_float64(gan, optimizer):
    differences = _iteration_differences(*_trainers(gan, optimizer, 6, torch.float64))
    assert max(differences.values()) < FLOAT64_BOUND, differences


@pytest.mark.parametrize("gan", list(GANS))
def test_one_iteration_of_a_single_member_equals_autograds_in_float64(gan):
    differences = _iteration_differences(*_trainers(gan, "adam", 1, torch.float64))
    assert max(differences.values()) < FLOAT64_BOUND, differences


@pytest.mark.parametrize("gan", ["gan", "wgan-gp"])
@pytest.mark.parametrize("optimizer", list(MEMBER_OPTIMIZERS))
def test_one_iteration_agrees_with_autograd_in_float32(gan, optimizer):
    differences = _iteration_differences(*_trainers(gan, optimizer, 6, torch.float32))
    assert max(differences.values()) < FLOAT32_BOUND, differences


@pytest.mark.parametrize("optimizer", ["rmsprop", "sgd"])
def test_clipped_critic_gradient_is_as_accurate_as_autograds_in_float32(optimizer):
    """After some clipped steps, one critic gradient in float32 both ways against the exact
    one (float64, from the same float32 state)."""
    specs = expand(parse_suite(tiny_suite(gans=["wgan-clip"], optimizers=[optimizer], seeds=6,
                                          batch_size=64,
                                          model={"width": 32, "depth": 3, "latent_dim": 2})))
    trainer = GroupTrainer(specs, CPU, Environment(fused="on"))
    for _ in range(3):
        trainer.critic_gradient()
        trainer.critic_step()
    real = trainer.dataset.sample(trainer.streams, 64)
    fake = trainer.fused.generate(trainer.streams.randn((64, 2)))
    critic, loss, clip = trainer.critic, trainer.loss.critic, trainer.constraint
    exact_critic = copy.deepcopy(critic).double()
    critic_gradient(exact_critic, loss, clip, torch.optim.SGD(exact_critic.parameters()),
                    real.double(), fake.double(), _uniform(6))
    critic_gradient(critic, loss, clip, trainer.opt_d, real, fake, _uniform(6))
    by_autograd = _grads(critic)
    trainer.fused.critic_gradient(loss, clip, real, fake, _uniform(6))
    exact = _grads(exact_critic)
    fused_error = relative_difference(_grads(critic), exact)
    autograd_error = relative_difference(by_autograd, exact)
    assert fused_error <= autograd_error + FLOAT32_BOUND, (fused_error, autograd_error)


# --- where it applies -------------------------------------------------------------------------


@pytest.mark.parametrize(("activation", "norm"), [("softplus", "none"), ("tanh", "none"),
                                                  ("relu", "layer"), ("relu", "batch")])
def test_other_networks_keep_autograd(activation, norm):
    gens = [torch.Generator().manual_seed(0)]
    generator = EnsembleMLP(gens, 2, 2, 8, 2)
    critic = EnsembleCritic(gens, 2, 8, 2, activation, norm)
    assert "not MLP ensembles" in unfit(generator, critic, GradientPenalty(1.0))
    with pytest.raises(ValueError, match="MLP ensembles"):
        FusedMLPGradients(generator, critic)


def test_a_penalty_other_than_the_gradient_penalty_keeps_autograd():
    class OneSided(GradientPenalty):
        name = "one-sided"

        def penalty(self, critic, real, fake, uniform):
            return super().penalty(critic, real, fake, uniform).clamp_min(0)

    generator, critic = _networks(1, 2, "relu")
    assert "one-sided" in unfit(generator, critic, OneSided(1.0))


def test_modes_auto_and_on_fuse_the_mlp_suites_and_off_keeps_autograd():
    specs = expand(parse_suite(tiny_suite(gans=["wgan-gp"], seeds=2)))
    for mode, fused in (("auto", True), ("on", True), ("off", False)):
        trainer = GroupTrainer(specs, CPU, Environment(fused=mode))
        assert (trainer.fused is not None) == fused == trainer.accel.fused
        assert trainer.accel.notes == []


def test_on_where_it_cannot_apply_says_why_and_keeps_autograd():
    plan = plan_acceleration("auto", "auto", "auto", CPU, double_backward=False,
                             convolutional=True)
    assert not plan_fused(plan, "on", "the networks are not MLP ensembles")
    assert plan.notes == ["fused step not used: the networks are not MLP ensembles; "
                          "gradients by autograd"]
    with pytest.raises(ValueError, match="fused mode 'yes'"):
        plan_fused(plan, "yes", None)


def test_a_fused_group_compiles_nothing():
    plan = plan_acceleration("on", "auto", "auto", CPU, double_backward=True,
                             convolutional=False)
    assert plan_fused(plan, "auto", None)
    assert plan.compile == () and plan.notes == [FUSED_COMPILE_NOTE]


def test_image_networks_keep_autograd():
    suite = tiny_suite(datasets=["digits"], gans=["wgan-gp"], seeds=1,
                       budget={"generator_steps": 2}, batch_size=8,
                       image_model={"filters": 8, "latent_dim": 16},
                       eval={"every": 2, "samples": 100, "critic_samples": 32})
    trainer = GroupTrainer(expand(parse_suite(suite)), CPU, Environment(fused="on"))
    assert trainer.fused is None and not trainer.accel.fused
    assert "not MLP ensembles" in trainer.accel.notes[-1]
