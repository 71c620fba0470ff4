"""Group checkpoints: exact resumption, the safe file format, damaged files, partly stored
groups, and diverged runs recorded once."""

import math
import os

import pytest
import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.orchestration.runner import run_suite
from bench.storage.store import ResultsStore
from bench.training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite
from tests.same_results import TIMING, assert_same_results

CPU = torch.device("cpu")


class Interrupt(Exception):
    """Raised from the checkpoint callback: the process 'dies' right after a save."""


def _rows(result) -> list[tuple]:
    """A run's metric rows without wall-clock metrics; NaN spelled out so it compares."""
    return [(r["step"], r["metric"], "nan" if math.isnan(r["value"]) else r["value"])
            for r in result.rows if r["metric"] not in TIMING]


def _interrupt_at(specs, step: int, path):
    """Train ``specs`` until the checkpoint at generator step ``step`` is saved to ``path``."""
    def save_then_stop(state: dict) -> None:
        save_checkpoint(path, state)
        if state["counters"]["generator_steps"] == step:
            raise Interrupt

    with pytest.raises(Interrupt):
        GroupTrainer(specs, CPU).train(on_checkpoint=save_then_stop)


@pytest.mark.parametrize("gan, optimizer", [("gan", "adam"), ("wgan-clip", "rmsprop"),
                                            ("wgan-gp", "adam")])
def test_interrupted_group_resumes_to_exactly_the_uninterrupted_results(tmp_path, gan,
                                                                        optimizer):
    # 10 steps, checkpoints every 3: interrupted after step 6, resumed through 9 and the end
    specs = expand(parse_suite(tiny_suite(gans=[gan], optimizers=[optimizer],
                                          budget={"generator_steps": 10})))
    reference = GroupTrainer(specs, CPU).train()
    path = tmp_path / "group.pt"
    _interrupt_at(specs, 6, path)
    state = load_checkpoint(path, [s.run_id for s in specs])
    trainer = GroupTrainer(specs, CPU)
    trainer.resume_from(state)
    resumed = trainer.train()
    for ref, res in zip(reference, resumed, strict=True):
        assert _rows(res) == _rows(ref)  # every checkpoint's metrics, bit for bit
        assert (res.status, res.diverged_step) == (ref.status, ref.diverged_step)
        for name in ("generator_steps", "critic_steps", "real_samples"):
            assert getattr(res.counters, name) == getattr(ref.counters, name)
        # timing counters continue from the saved ones instead of starting over
        assert res.counters.train_seconds > state["counters"]["train_seconds"]
        assert res.state.keys() == ref.state.keys()
        assert all(torch.equal(res.state[k], ref.state[k]) for k in ref.state)
        assert all((res.samples[k] == ref.samples[k]).all() for k in ref.samples)


def test_checkpoint_loads_with_weights_only_and_holds_every_stream(tmp_path):
    specs = expand(parse_suite(tiny_suite(gans=["wgan-gp"])))
    path = tmp_path / "group.pt"
    GroupTrainer(specs, CPU).train(on_checkpoint=lambda state: save_checkpoint(path, state))
    envelope = torch.load(path, weights_only=True)  # the file itself is safe to load
    assert envelope["payload"].dtype == torch.uint8 and len(envelope["sha256"]) == 64
    state = load_checkpoint(path, [s.run_id for s in specs])
    assert state["counters"]["generator_steps"] == 6  # the end of training
    for streams in ("train_streams", "eval_streams"):
        assert len(state[streams]) == 2 and state[streams][0].dtype == torch.uint8
    assert {"exp_avg", "exp_avg_sq"} <= state["opt_d"]["state"][0].keys()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted results of the one-group suite the damage tests resume."""
    torch.set_num_threads(1)  # set before the per-test fixture runs
    out = tmp_path_factory.mktemp("reference") / "out"
    run_suite(parse_suite(tiny_suite(gans=["wgan-gp"])), out, "cpu", workers=1,
              show_progress=False)
    return out


def _interrupted_suite(tmp_path):
    """A suite folder whose only group was interrupted after its step-3 checkpoint."""
    config = parse_suite(tiny_suite(gans=["wgan-gp"]))
    specs = expand(config)
    out = tmp_path / "out"
    path = checkpoint_path(out, specs)
    _interrupt_at(specs, 3, path)
    return config, out, path


def test_suite_continues_a_group_from_its_checkpoint(tmp_path):
    config, out, path = _interrupted_suite(tmp_path)
    # plant a marker in the saved rows: it can only reach the store through the checkpoint
    state = load_checkpoint(path, [s.run_id for s in expand(config)])
    marked = state["results"][0]["metric"].index("w1")
    state["results"][0]["value"][marked] = 123.0
    save_checkpoint(path, state)
    run_suite(config, out, "cpu", workers=1, show_progress=False)
    metrics = ResultsStore(out).load_metrics()
    assert 123.0 in metrics["value"].tolist()
    assert not path.exists()  # deleted once the group's runs are stored


@pytest.mark.parametrize("damage, reason", [("truncated", "Error"),
                                            ("flipped byte", "checksum mismatch"),
                                            ("not a checkpoint", "UnpicklingError")])
def test_damaged_checkpoint_restarts_its_group_with_a_warning(tmp_path, reference, damage,
                                                              reason):
    config, out, path = _interrupted_suite(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped byte":  # inside the payload: the file loads, the checksum fails
        data[len(data) // 2] ^= 0xFF
    else:
        data = b"garbage"
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match=f"unusable checkpoint .*{reason}.*restart from scr"):
        outcome = run_suite(config, out, "cpu", workers=1, show_progress=False)
    assert outcome.ran == 2 and not outcome.failures
    assert_same_results(out, reference)


def test_group_partly_stored_writes_only_its_missing_runs(tmp_path, reference):
    # the driver died after storing seed 0 of the group and before storing seed 1
    config = parse_suite(tiny_suite(gans=["wgan-gp"]))
    out = tmp_path / "out"
    run_suite(config, out, "cpu", workers=1, show_progress=False)
    runs = out / "runs"
    os.replace(runs / "ring8__wgan-gp__adam__s1", runs / ".ring8__wgan-gp__adam__s1.tmp")
    seed0 = (runs / "ring8__wgan-gp__adam__s0" / "metrics.csv").stat().st_mtime_ns
    outcome = run_suite(config, out, "cpu", workers=1, show_progress=False)
    assert (outcome.ran, outcome.skipped) == (1, 1)
    assert not (runs / ".ring8__wgan-gp__adam__s1.tmp").exists()  # a killed write, removed
    assert (runs / "ring8__wgan-gp__adam__s0" / "metrics.csv").stat().st_mtime_ns == seed0
    assert_same_results(out, reference)


def test_diverged_run_is_recorded_once_and_never_retried(tmp_path):
    # SGD at lr 1e30 overflows within a few steps: a genuinely diverging run
    suite = tiny_suite(gans=["gan"], optimizers=[{"name": "sgd", "lr": 1e30, "label": "huge"}])
    out = tmp_path / "out"
    first = run_suite(parse_suite(suite), out, "cpu", workers=1, show_progress=False)
    assert (first.ran, first.diverged) == (2, 2)
    again = run_suite(parse_suite(suite), out, "cpu", workers=1, show_progress=False)
    assert (again.ran, again.skipped, again.diverged) == (0, 2, 0)
    assert set(ResultsStore(out).load_runs()["status"]) == {"diverged"}
    assert not any((out / "checkpoints").iterdir())
