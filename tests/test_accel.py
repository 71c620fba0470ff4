"""Speed-ups of the training loop: which ones a group uses, and that each one either gives the
eager loop's results or falls back to it."""

import json

import pytest
import torch

import bench.training.accel.policy as policy
from bench.cli import main
from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.environment import Environment
from bench.core.hyperparameters import optimizer_values
from bench.core.specs import OptimizerSpec
from bench.orchestration.runner import run_suite
from bench.training.accel.policy import DOUBLE_BACKWARD_NOTE, plan_acceleration
from bench.training.accel.state import TrainingState
from bench.training.adam_cosine import adam_update_cosine
from bench.training.member_optimizers import make_optimizer
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite

CPU, CUDA = torch.device("cpu"), torch.device("cuda")
needs_cuda = pytest.mark.cuda


@pytest.fixture(autouse=True)
def _fresh_compiler(monkeypatch):
    """aot_eager runs torch.compile's tracing and autograd (where the double-backward
    limitation lives) without inductor's minutes of C++ compilation on this CPU."""
    monkeypatch.setattr(policy, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _trainer(device=CPU, gan="wgan-clip", seeds=(0, 1), **env) -> GroupTrainer:
    specs = expand(parse_suite(tiny_suite(gans=[gan], seeds=list(seeds))))
    return GroupTrainer(specs, device, Environment(**env))


def _rows(results) -> list[list[dict]]:
    return [r.rows for r in results]


def _close_rows(a, b, rel: float) -> None:
    for rows_a, rows_b in zip(_rows(a), _rows(b), strict=True):
        for x, y in zip(rows_a, rows_b, strict=True):
            assert (x["step"], x["metric"]) == (y["step"], y["metric"])
            if not x["metric"].endswith(("seconds", "_per_s")):
                assert x["value"] == pytest.approx(y["value"], rel=rel, abs=1e-6, nan_ok=True), x


# --- policy -------------------------------------------------------------------------------


def test_auto_uses_no_compiler_and_no_graphs_on_a_cpu():
    plan = plan_acceleration("auto", "auto", "auto", CPU, double_backward=False,
                             convolutional=False)
    assert (plan.compile, plan.cuda_graphs, plan.channels_last, plan.notes) == (
        (), False, False, [])


def test_auto_on_cuda_compiles_and_captures_toy_mlps_but_not_a_penalised_critic():
    plan = plan_acceleration("auto", "auto", "auto", CUDA, double_backward=True,
                             convolutional=False)
    assert plan.compile == ("generator",) and plan.cuda_graphs
    assert plan.notes == [DOUBLE_BACKWARD_NOTE]
    images = plan_acceleration("auto", "auto", "auto", CUDA, double_backward=False,
                               convolutional=True)
    assert images.compile == ("generator", "critic") and not images.cuda_graphs
    assert images.channels_last
    forced = plan_acceleration("off", "on", "off", CUDA, double_backward=False,
                               convolutional=True)
    assert forced.compile == () and forced.cuda_graphs and not forced.channels_last


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="compile mode 'fast'"):
        plan_acceleration("fast", "auto", "auto", CPU, double_backward=False,
                          convolutional=False)


def test_cuda_graphs_on_without_cuda_is_one_clear_error(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "--suite", "ci", "--device", "cpu", "--cuda-graphs", "on",
                 "--out", str(out), "--no-progress"])
    assert code == 2
    assert "--cuda-graphs on" in capsys.readouterr().err
    assert not out.exists()


# --- torch.compile ------------------------------------------------------------------------


# compiling applies to the autograd path: a fused group calls no network module
def test_compiled_networks_train_like_eager_ones():
    eager = _trainer(compile="off", fused="off").train()
    trainer = _trainer(compile="on", fused="off")
    compiled = trainer.train()
    assert compiled[0].acceleration["compile"] == ["generator", "critic"]
    assert compiled[0].acceleration["notes"] == []
    _close_rows(compiled, eager, rel=1e-4)


def test_penalised_critic_is_left_eager_and_the_run_goes_on():
    results = _trainer(gan="wgan-gp", compile="on", fused="off").train()
    assert results[0].acceleration["compile"] == ["generator"]
    assert results[0].acceleration["notes"] == [DOUBLE_BACKWARD_NOTE]
    assert all(r.status == "finished" for r in results)


def test_a_failing_compile_falls_back_to_exactly_the_eager_run(monkeypatch):
    """Force the critic under a gradient penalty through torch.compile anyway: the first
    iteration hits the double-backward limitation, and the run rolls back and goes on eagerly
    with the eager run's exact numbers."""
    eager = _trainer(gan="wgan-gp", compile="off", fused="off").train()
    trainer = _trainer(gan="wgan-gp", compile="off", fused="off")
    trainer.train_critic = policy.compile_network(trainer.critic)
    trainer.accel.compile = ("critic",)
    with pytest.warns(UserWarning, match="double backward"):
        fallen_back = trainer.train()
    notes = fallen_back[0].acceleration["notes"]
    assert fallen_back[0].acceleration["compile"] == [] and "failed" in notes[-1]
    for a, b in zip(_rows(fallen_back), _rows(eager), strict=True):
        assert [(r["step"], r["metric"], r["value"]) for r in a
                if not r["metric"].endswith(("seconds", "_per_s"))] == [
            (r["step"], r["metric"], r["value"]) for r in b
            if not r["metric"].endswith(("seconds", "_per_s"))]


# --- the state a rollback restores ----------------------------------------------------------


def _state(trainer: GroupTrainer) -> TrainingState:
    return trainer.run_iteration.state


@pytest.mark.parametrize("dataset", ["ring8", "digits"])
def test_restore_returns_training_to_the_saved_point_including_fresh_optimizers(dataset):
    # 2-D ensembles' member optimizers create their state when built; torch's Adam (the
    # single-member image networks) creates it lazily at the first step
    specs = expand(parse_suite(tiny_suite(datasets=[dataset], gans=["wgan-gp"], seeds=1,
                                          batch_size=16,
                                          image_model={"filters": 8, "latent_dim": 16})))
    trainer = GroupTrainer(specs, CPU)
    state = _state(trainer)
    start = state.save()
    lazy = all(not s for s in start.optimizers)
    assert lazy == (dataset == "digits")
    trainer.iteration(5)
    first = state.save()
    state.restore(start)
    assert all(bool(opt.state) != lazy for opt in state.optimizers)
    trainer.iteration(5)
    assert TrainingState.max_difference(first, state.save()) == 0.0
    trainer.iteration(5)
    assert TrainingState.max_difference(first, state.save()) > 0.0


def test_difference_treats_matching_nans_as_equal_and_other_streams_as_different():
    trainer = _trainer()
    state = _state(trainer)
    saved = state.save()
    with torch.no_grad():
        trainer.sums["critic_loss"].fill_(float("nan"))
    nan_a, nan_b = state.save(), state.save()
    assert TrainingState.max_difference(nan_a, nan_b) == 0.0
    assert TrainingState.max_difference(saved, nan_a) == float("inf")
    trainer.streams.randn((3,))
    assert TrainingState.max_difference(nan_a, state.save()) == float("inf")


# --- Adam-step cosine with the step counter on the device ----------------------------------


def test_adam_cosine_is_the_same_for_fused_and_foreach_adam():
    torch.manual_seed(0)
    spec = OptimizerSpec(name="adam", lr=1e-2, betas=(0.5, 0.9))
    cosines = []
    for fused in (True, False):
        params = [torch.nn.Parameter(torch.ones(2, 3, 4)), torch.nn.Parameter(torch.ones(2, 5))]
        values = optimizer_values(spec, "critic")
        opt = (make_optimizer("adam", params, values, members=False) if fused else
               torch.optim.Adam(params, lr=spec.lr, betas=spec.betas, foreach=True))
        gen = torch.Generator().manual_seed(1)
        for _ in range(3):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen)
            opt.step()
        cosines.append(adam_update_cosine(opt, 2))
    assert torch.allclose(cosines[0], cosines[1], atol=1e-6)


# --- channels_last ------------------------------------------------------------------------


def _image_trainer(channels_last: str) -> GroupTrainer:
    suite = tiny_suite(datasets=["digits"], gans=["wgan-gp"], seeds=1,
                       budget={"generator_steps": 2}, batch_size=8,
                       image_model={"filters": 8, "latent_dim": 16},
                       eval={"every": 2, "samples": 100, "critic_samples": 32})
    return GroupTrainer(expand(parse_suite(suite)), CPU,
                        Environment(channels_last=channels_last))


def test_channels_last_dcgans_train_like_contiguous_ones():
    fast, plain = _image_trainer("auto"), _image_trainer("off")
    convs = [m.weight for m in fast.critic.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    a, b = fast.train(), plain.train()
    assert a[0].acceleration["channels_last"] and not b[0].acceleration["channels_last"]
    _close_rows(a, b, rel=1e-3)


def test_provenance_records_the_speed_ups(tmp_path):
    out = tmp_path / "out"
    run_suite(parse_suite(tiny_suite(gans=["wgan-gp"], seeds=1)), out, "cpu", workers=1,
              show_progress=False)
    (run,) = (out / "runs").iterdir()
    accel = json.loads((run / "provenance.json").read_text())["acceleration"]
    assert accel == {"compile": [], "cuda_graphs": False, "channels_last": False,
                     "fused": True, "notes": []}


# --- CUDA graphs (a GPU only) ---------------------------------------------------------------


@needs_cuda
@pytest.mark.parametrize("fused", ["on", "off"])
@pytest.mark.parametrize("gan", ["gan", "wgan-clip", "wgan-gp"])
def test_cuda_graph_iterations_match_eager_ones(gan, fused):
    eager = _trainer(CUDA, gan=gan, compile="off", cuda_graphs="off", fused=fused).train()
    trainer = _trainer(CUDA, gan=gan, compile="off", cuda_graphs="on", fused=fused)
    graphed = trainer.train()
    assert graphed[0].acceleration["cuda_graphs"], graphed[0].acceleration["notes"]
    assert trainer.run_iteration.captured  # iterations after the warm-up replayed
    _close_rows(graphed, eager, rel=1e-4)


@needs_cuda
def test_compiled_and_graphed_training_runs_on_cuda():
    trainer = _trainer(CUDA, gan="wgan-gp", compile="on", cuda_graphs="on", fused="off")
    results = trainer.train()
    assert results[0].acceleration["compile"] == ["generator"]
    assert results[0].acceleration["cuda_graphs"], results[0].acceleration["notes"]
    assert all(r.status == "finished" for r in results)
