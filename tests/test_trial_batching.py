"""Trial batching: members of one group that differ in dataset, the networks' learning rates,
Adam's betas, SGD's momentum, AdamW's weight decay, the clipping bound and the penalty weight
each train exactly as they would alone with torch.optim (or, for the optimizers torch lacks,
as the same optimizer trains one network)."""

from dataclasses import replace

import pytest
import torch

from bench.config.suite import expand, parse_suite
from bench.orchestration.runner import plan_groups
from bench.training import workload as workload_module
from bench.training.member_optimizers import make_optimizer
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite

QUALITY = ("w1", "critic_gap", "critic_loss", "generator_loss", "penalty",
           "precision", "recall")
MEMBERS = (  # dataset, seed, lr, (beta1, beta2), clip_value, gp_weight
    ("ring8", 0, 1e-3, (0.5, 0.9), 0.02, 0.1),
    ("grid25", 1, 3e-4, (0.0, 0.99), 0.01, 1.0),
    ("swissroll", 2, 1e-4, (0.9, 0.999), 0.05, 10.0),
)
OTHER_SETTINGS = (  # lr_generator (TTUR: the generator's own rate), momentum, weight_decay
    (2e-4, 0.9, 0.1), (None, 0.5, 0.0), (1e-3, 0.7, 0.01))


def _members(gan: str, optimizer: str) -> list:
    suite = tiny_suite(datasets=["ring8", "grid25", "swissroll"], gans=[gan],
                       optimizers=[optimizer], seeds=[0, 1, 2])
    template = {(s.dataset, s.seed): s for s in expand(parse_suite(suite))}
    specs = []
    for (dataset, seed, lr, betas, clip, gp), (lr_g, momentum, decay) in zip(
            MEMBERS, OTHER_SETTINGS, strict=True):
        spec = template[(dataset, seed)]
        optimizer = replace(spec.optimizer, lr=lr, betas=betas, lr_generator=lr_g,
                            momentum=momentum, weight_decay=decay)
        specs.append(replace(spec, optimizer=optimizer,
                             recipe=replace(spec.recipe, clip_value=clip, gp_weight=gp)))
    return specs


def _final(result) -> dict[str, float]:
    last = max(r["step"] for r in result.rows)
    return {r["metric"]: r["value"] for r in result.rows if r["step"] == last}


def _with_torch_optim(name, params, values, *, members, capturable=False):
    """torch.optim's own optimizer for a member trained alone: the reference."""
    return make_optimizer(name, params, values, members=False, capturable=capturable)


@pytest.mark.parametrize(("gan", "optimizer"), [
    *((gan, optimizer) for optimizer in ("adam", "rmsprop", "sgd")
      for gan in ("gan", "wgan-clip", "wgan-gp")),
    # issue 24's optimizers with the penalty's double backward; extra-* run the
    # extrapolation phases; optimistic-adam and extra-* are their own reference alone
    *(("wgan-gp", optimizer) for optimizer in (
        {"name": "sgd", "nesterov": True, "momentum": 0.9}, "adamw", "optimistic-adam",
        "extra-adam", "extra-sgd", "past-extra-adam", "past-extra-sgd")),
])
def test_each_member_matches_torch_optim_alone(gan, optimizer, monkeypatch):
    specs = _members(gan, optimizer)
    assert len(plan_groups(specs, 8)) == 1  # they batch: one group
    together = GroupTrainer(specs, torch.device("cpu")).train()
    monkeypatch.setattr(workload_module, "make_optimizer", _with_torch_optim)
    for member, spec in enumerate(specs):
        (alone,) = GroupTrainer([spec], torch.device("cpu")).train()
        batched, single = _final(together[member]), _final(alone)
        assert set(batched) == set(single), spec.dataset
        for metric in QUALITY:
            if metric in single:
                assert batched[metric] == pytest.approx(single[metric], rel=1e-4, abs=1e-6), (
                    spec.dataset, metric)
        for name, tensor in alone.state.items():
            assert torch.allclose(together[member].state[name], tensor, rtol=1e-4,
                                  atol=1e-6), (spec.dataset, name)


def test_discrete_choices_split_groups():
    suite = tiny_suite(datasets=["ring8", "grid25"], gans=["wgan-gp"],
                       optimizers=["adam", "rmsprop", {"name": "adam", "lr": 1e-3,
                                                       "label": "adam-fast"}], seeds=2)
    specs = expand(parse_suite(suite))
    groups = plan_groups(specs, 8)
    # adam and adam-fast (lr only) batch together across both datasets; rmsprop splits off
    assert sorted(len(g) for g in groups) == [4, 8]
    n_critic = [replace(s, recipe=replace(s.recipe, n_critic=1)) if s.seed == 0 else s
                for s in specs if s.optimizer.name == "rmsprop"]
    assert sorted(len(g) for g in plan_groups(n_critic, 8)) == [2, 2]
