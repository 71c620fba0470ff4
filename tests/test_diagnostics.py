"""Critic diagnostics on tiny critics with known weights, and the Adam cosine by hand."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from bench.analysis.weight_piling import critic_weights, piled_fraction
from bench.core.specs import DiagnosticsSpec
from bench.data.toy import get_toy_dataset
from bench.experiments.critic_diagnostics import (
    clip_setting,
    gp_setting,
    run_critic_diagnostics,
    train_critic,
)
from bench.storage.critic_outputs import NORM_FLOOR, gradient_summary
from bench.training.adam_cosine import adam_update_cosine
from bench.training.streams import make_generators
from gan_zoo.architectures.mlp import EnsembleCritic
from gan_zoo.constraints import WeightClipping


def _critic(scale: float) -> EnsembleCritic:
    critic = EnsembleCritic(make_generators([0], torch.device("cpu")), 2, 16, 2)
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(scale)
    return critic


def _state(critic: EnsembleCritic) -> dict[str, torch.Tensor]:
    return {f"critic.{name}": p.detach() for name, p in critic.named_parameters()}


def test_clipped_weights_pile_at_plus_minus_c():
    c = 0.01
    critic = _critic(10.0)  # init U(-1/sqrt(fan_in), ..) * 10: nearly all |w| >> c
    before = critic_weights(_state(critic))
    WeightClipping(c).after_critic_step(critic)
    after = critic_weights(_state(critic))
    expected = np.mean(np.abs(before) >= c * 0.99)
    assert piled_fraction(after, c, 0.01) == pytest.approx(expected)
    assert expected > 0.9
    # the same critic unclipped: its weights are far beyond c, not at it
    assert piled_fraction(before, c, 0.01) < 0.05


def test_piled_fraction_by_hand():
    w = np.array([0.01, -0.01, 0.00995, 0.005, 0.0, 0.5, -0.01005])
    # within 1% of +-0.01: 0.01, -0.01, 0.00995, -0.01005; not 0.005, 0.0, 0.5
    assert piled_fraction(w, 0.01, 0.01) == pytest.approx(4 / 7)
    assert math.isnan(piled_fraction(np.array([np.nan, 0.01]), 0.01, 0.01))


def test_critic_weights_skip_biases_gains_and_the_generator():
    state = {
        "critic.net.0.weight": torch.ones(1, 2, 3),
        "critic.net.0.bias": torch.ones(1, 1, 3),
        "critic.net.1.weight": torch.ones(4),  # a normalisation gain
        "generator.net.0.weight": torch.ones(1, 2, 3),
    }
    assert len(critic_weights(state)) == 6


def test_adam_cosine_by_hand():
    p = torch.nn.Parameter(torch.zeros(1, 2))
    optimizer = torch.optim.Adam([p], lr=0.1, betas=(0.5, 0.9), eps=0.0)
    p.grad = torch.tensor([[3.0, 4.0]])
    optimizer.step()
    # step 1: m_hat = g and v_hat = g^2, so the step is -lr * sign(g): cos = 7 / (5 sqrt 2)
    assert adam_update_cosine(optimizer, 1).item() == pytest.approx(7 / (5 * math.sqrt(2)))
    p.grad = torch.tensor([[-3.0, 0.0]])
    optimizer.step()
    # step 2: m = 0.25 (3, 4) + 0.5 (-3, 0) = (-0.75, 1); v = 0.09 (9, 16) + 0.1 (9, 0)
    m = np.array([-0.75, 1.0]) / (1 - 0.5**2)
    v = (0.09 * np.array([9.0, 16.0]) + 0.1 * np.array([9.0, 0.0])) / (1 - 0.9**2)
    direction = m / np.sqrt(v)
    expected = direction @ np.array([-3.0, 0.0]) / (np.linalg.norm(direction) * 3.0)
    assert adam_update_cosine(optimizer, 1).item() == pytest.approx(expected, rel=1e-5)


def test_adam_cosine_matches_the_parameter_change_per_member():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 4, 5))
    b = torch.nn.Parameter(torch.randn(3, 1, 5))
    optimizer = torch.optim.Adam([w, b], lr=1e-2, betas=(0.5, 0.9), foreach=True)
    for step in range(4):
        before = [w.detach().clone(), b.detach().clone()]
        optimizer.zero_grad()
        ((w**3).sum() + (b * torch.randn(3, 1, 5)).sum() * (step + 1)).backward()
        optimizer.step()
        update = torch.cat([(old - new.detach()).flatten(1)
                            for old, new in zip(before, (w, b), strict=True)], 1)
        grad = torch.cat([w.grad.flatten(1), b.grad.flatten(1)], 1)
        expected = torch.nn.functional.cosine_similarity(update, grad, dim=1)
        assert torch.allclose(adam_update_cosine(optimizer, 3), expected, atol=1e-5)


def test_gradient_summary_counts_zero_norms_as_vanished():
    rows = pd.DataFrame({
        "setting": ["clip 0.01"] * 3 + ["gradient penalty"] * 3,
        "clip_value": [0.01] * 3 + [math.nan] * 3,
        "seed": 0, "layer": [1, 2, 3] * 2,
        "grad_norm": [0.0, 1e-5, 1e-2, 0.5, 1.0, 2.0],
    }).astype({"seed": int})
    summary = gradient_summary(rows).set_index("setting")
    assert summary.loc["clip 0.01", "decades"] == pytest.approx(-math.log10(NORM_FLOOR))
    assert summary.loc["gradient penalty", "decades"] == pytest.approx(math.log10(2))
    assert summary.loc["gradient penalty", "span"] == pytest.approx(math.log10(4))


def test_deep_critics_train_under_their_constraint(tmp_path):
    spec = DiagnosticsSpec(critic_steps=4, seeds=2, width=8, depth=12, batch_size=16)
    swissroll = get_toy_dataset("swissroll")
    critic, norms = train_critic(swissroll, clip_setting(0.01), spec, spec.depth,
                                 torch.device("cpu"))
    assert norms.shape == (13, 2) and torch.isfinite(norms).all()
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    _, gp_norms = train_critic(swissroll, gp_setting(10.0), spec, 3, torch.device("cpu"))
    assert gp_norms.shape == (4, 2) and (gp_norms > 0).all()
    assert run_critic_diagnostics(tmp_path, torch.device("cpu"), spec)
    rows = pd.read_csv(tmp_path / "gradient_norms.csv")
    assert set(rows["setting"]) == {"clip 0.1", "clip 0.01", "clip 0.001", "gradient penalty"}
    assert len(rows) == 4 * 13 * 2
    assert not run_critic_diagnostics(tmp_path, torch.device("cpu"), spec)  # resumed: skipped
