import math

import torch

from gan_zoo.losses import NON_SATURATING, WASSERSTEIN


def test_wasserstein_critic_loss_is_minus_the_gap():
    real = torch.tensor([[2.0, 4.0]])
    fake = torch.tensor([[1.0, -1.0]])
    gap = 3.0 - 0.0
    assert torch.allclose(WASSERSTEIN.critic(real, fake), torch.tensor([-gap]))
    assert torch.allclose(WASSERSTEIN.estimate(real, fake), torch.tensor([gap]))


def test_critic_descent_increases_real_minus_fake_gap():
    # one gradient step on the critic loss must raise D(real) - D(fake), for both losses
    for loss in (WASSERSTEIN, NON_SATURATING):
        real_scores = torch.zeros(1, 4, requires_grad=True)
        fake_scores = torch.zeros(1, 4, requires_grad=True)
        loss.critic(real_scores, fake_scores).sum().backward()
        assert (real_scores.grad < 0).all(), loss.name  # descent raises D(real)
        assert (fake_scores.grad > 0).all(), loss.name  # descent lowers D(fake)


def test_generator_descent_raises_fake_scores():
    for loss in (WASSERSTEIN, NON_SATURATING):
        fake_scores = torch.zeros(1, 4, requires_grad=True)
        loss.generator(fake_scores).sum().backward()
        assert (fake_scores.grad < 0).all(), loss.name


def test_bce_values_and_js_estimate():
    zeros = torch.zeros(1, 3)
    # D = sigmoid(0) = 1/2 everywhere: BCE = 2 log 2 and the JS estimate is 0
    assert torch.allclose(NON_SATURATING.critic(zeros, zeros), torch.tensor([2 * math.log(2)]))
    assert torch.allclose(NON_SATURATING.estimate(zeros, zeros), torch.tensor([0.0]), atol=1e-7)
    # a perfect discriminator: JS estimate tends to log 2
    big = torch.full((1, 3), 50.0)
    assert torch.allclose(NON_SATURATING.estimate(big, -big), torch.tensor([math.log(2)]))
    # non-saturating generator loss: -log sigmoid(s)
    s = torch.tensor([[0.3]])
    expected = -torch.log(torch.sigmoid(s))
    assert torch.allclose(NON_SATURATING.generator(s), expected[0])


def test_losses_are_per_member():
    real = torch.tensor([[1.0, 1.0], [5.0, 5.0]])
    fake = torch.zeros(2, 2)
    assert WASSERSTEIN.critic(real, fake).shape == (2,)
    assert torch.allclose(WASSERSTEIN.critic(real, fake), torch.tensor([-1.0, -5.0]))
