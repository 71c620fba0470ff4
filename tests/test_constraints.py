import pytest
import torch
from torch import nn

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.training.streams import MemberStreams
from bench.training.trainer import GroupTrainer
from gan_zoo.constraints import GradientPenalty, WeightClipping
from tests.conftest import tiny_suite


class LinearCritic(nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).sum(-1)


def test_gradient_penalty_value_on_known_gradient():
    # ||grad D|| = ||(3, 4)|| = 5 everywhere: penalty = lambda * (5 - 1)^2
    critic = LinearCritic(torch.tensor([3.0, 4.0]))
    streams = MemberStreams([0], torch.device("cpu"))
    real, fake = torch.randn(1, 16, 2), torch.randn(1, 16, 2)
    penalty = GradientPenalty(weight=10.0).penalty(critic, real, fake, streams.rand)
    assert torch.allclose(penalty, torch.tensor([160.0]))


def test_gradient_penalty_is_zero_for_unit_gradient_and_two_sided():
    streams = MemberStreams([0], torch.device("cpu"))
    real, fake = torch.randn(1, 8, 2), torch.randn(1, 8, 2)
    unit = LinearCritic(torch.tensor([0.6, 0.8]))
    assert torch.allclose(
        GradientPenalty(1.0).penalty(unit, real, fake, streams.rand), torch.zeros(1), atol=1e-6
    )
    # two-sided: a gradient norm below 1 is penalised too
    small = LinearCritic(torch.tensor([0.3, 0.4]))
    assert torch.allclose(
        GradientPenalty(1.0).penalty(small, real, fake, streams.rand), torch.tensor([0.25])
    )


def test_gradient_penalty_differentiable_wrt_critic():
    critic = LinearCritic(torch.tensor([3.0, 4.0]))
    streams = MemberStreams([0], torch.device("cpu"))
    penalty = GradientPenalty(1.0).penalty(
        critic, torch.randn(1, 4, 2), torch.randn(1, 4, 2), streams.rand
    )
    penalty.sum().backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * (0.6, 0.8)
    assert torch.allclose(critic.w.grad, torch.tensor([4.8, 6.4]), atol=1e-5)


def test_clipping_holds_after_every_critic_step():
    config = parse_suite(tiny_suite(gans=["wgan-clip"], recipes={"wgan-clip": {"lr": 0.5}}))
    trainer = GroupTrainer(expand(config), torch.device("cpu"))
    c = trainer.constraint.clip_value
    for _ in range(5):
        before = [p.detach().clone() for p in trainer.critic.parameters()]
        trainer.critic_gradient()
        trainer.critic_step()
        after = list(trainer.critic.parameters())
        assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
        assert all(p.abs().max() <= c for p in after)
    # with lr 0.5 an unclipped step would leave the box: the bound is active, not idle
    assert max(p.abs().max().item() for p in trainer.critic.parameters()) == pytest.approx(c)


def test_weight_clipping_clamps_every_parameter():
    net = nn.Linear(3, 3)
    with torch.no_grad():
        net.weight.fill_(2.0)
        net.bias.fill_(-2.0)
    WeightClipping(0.1).after_critic_step(net)
    assert net.weight.max() == 0.1 and net.bias.min() == -0.1
