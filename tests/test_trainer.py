"""Training-loop behaviour: seed batching, divergence handling, determinism."""

import math

import pytest
import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.orchestration.runner import run_suite
from bench.storage.store import ResultsStore
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite


def _train(**overrides):
    specs = expand(parse_suite(tiny_suite(**overrides)))
    return GroupTrainer(specs, torch.device("cpu")).train()


def _final(result) -> dict[str, float]:
    last = max(r["step"] for r in result.rows)
    return {r["metric"]: r["value"] for r in result.rows if r["step"] == last}


QUALITY = ("w1", "modes_captured", "hq_fraction", "critic_gap", "critic_loss",
           "generator_loss", "penalty")


@pytest.mark.parametrize("gan", ["gan", "wgan-clip", "wgan-gp"])
def test_seed_batched_member_matches_training_alone(gan):
    together = _train(gans=[gan], seeds=[0, 1, 2])
    alone = _train(gans=[gan], seeds=[1])
    batched, single = _final(together[1]), _final(alone[0])
    for metric in QUALITY:
        assert batched[metric] == pytest.approx(single[metric], rel=1e-4, abs=1e-6), metric
    for name, tensor in alone[0].state.items():
        assert torch.allclose(together[1].state[name], tensor, rtol=1e-4, atol=1e-6), name


def test_training_is_deterministic():
    a, b = _train(gans=["wgan-gp"], seeds=[5]), _train(gans=["wgan-gp"], seeds=[5])
    assert _final(a[0])["w1"] == _final(b[0])["w1"]


def test_nan_run_is_recorded_as_diverged_and_suite_goes_on(tmp_path):
    # SGD at lr 1e30 overflows the weights within a few steps: a genuinely diverging run
    suite = tiny_suite(
        gans=["gan", "wgan-gp"],
        optimizers=[{"name": "sgd", "lr": 1e30, "label": "sgd-huge"}, "adam"],
        budget={"generator_steps": 8}, eval={"every": 4, "samples": 100, "w1_samples": 50,
                                             "critic_samples": 50},
    )
    outcome = run_suite(parse_suite(suite), tmp_path / "out", "cpu", workers=1,
                        show_progress=False)
    runs = ResultsStore(tmp_path / "out").load_runs().set_index("run_id")
    assert outcome.ran == 8 and not outcome.failures
    diverged = runs[runs["status"] == "diverged"]
    assert set(diverged["optimizer"]) == {"sgd-huge"} and len(diverged) == 4
    assert (diverged["diverged_step"] >= 0).all() and (diverged["diverged_step"] < 8).all()
    assert set(runs[runs["optimizer"] == "adam"]["status"]) == {"finished"}


def test_diverged_member_does_not_disturb_its_batch_mates():
    # member lr cannot differ within a group, so poison one member's weights directly
    specs = expand(parse_suite(tiny_suite(gans=["wgan-gp"], seeds=[0, 1])))
    trainer = GroupTrainer(specs, torch.device("cpu"))
    with torch.no_grad():
        trainer.critic.net[0].weight[0].fill_(math.nan)
    results = trainer.train()
    assert results[0].status == "diverged" and results[0].diverged_step == 0
    assert results[1].status == "finished"
    alone = GroupTrainer(specs[1:], torch.device("cpu")).train()[0]
    assert _final(results[1])["w1"] == pytest.approx(_final(alone)["w1"], rel=1e-4)
