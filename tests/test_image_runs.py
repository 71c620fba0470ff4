"""Image datasets through the harness: a few steps of each GAN on each offline dataset."""

import pytest
import torch
from PIL import Image

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.errors import BenchError
from bench.orchestration.runner import run_suite
from bench.storage.store import ResultsStore
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite


def _image_suite(**overrides) -> dict:
    settings = dict(
        name="tiny-images", datasets=["digits", "stacked-digits"], seeds=1,
        budget={"generator_steps": 2}, batch_size=16,
        image_model={"filters": 8, "latent_dim": 16},
        eval={"every": 1, "samples": 300, "critic_samples": 64},
        recipes={"wgan-clip": {"warmup": False}},
    )
    return tiny_suite(**(settings | overrides))


@pytest.fixture(scope="module")
def image_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("images") / "out"
    outcome = run_suite(parse_suite(_image_suite()), out, "cpu", workers=1,
                        show_progress=False)
    assert not outcome.failures, outcome.failures
    return out


def test_every_gan_trains_on_every_offline_image_dataset(image_results):
    runs = ResultsStore(image_results).load_runs()
    assert len(runs) == 2 * 3
    assert set(runs["status"]) == {"finished"}
    assert (runs["generator_steps"] == 2).all()
    metrics = ResultsStore(image_results).load_metrics()
    final = metrics[metrics["step"] == 2]
    for dataset, n_modes in (("digits", 10), ("stacked-digits", 1000)):
        rows = final[final["dataset"] == dataset].pivot_table(
            index="run_id", columns="metric", values="value")
        assert (rows["fd_digits"] > 0).all()
        assert rows["modes_captured"].between(1, n_modes).all()
        assert rows[["critic_gap", "divergence_estimate", "critic_loss"]].notna().all().all()


def test_image_runs_write_a_sample_grid_per_checkpoint(image_results):
    run = image_results / "runs" / "stacked-digits__dcgan__wgan-gp__adam__s0"
    grids = sorted(p.name for p in (run / "images").iterdir())
    assert grids == ["step_0000000.png", "step_0000001.png", "step_0000002.png"]
    with Image.open(run / "images" / grids[-1]) as image:
        assert image.mode == "RGB" and image.size == (8 * 17 + 1, 8 * 17 + 1)
    state = torch.load(run / "models.pt", weights_only=True)
    assert any(k.startswith("generator.") for k in state)


def test_gradient_penalty_critic_has_no_batch_norm():
    spec = next(s for s in expand(parse_suite(_image_suite())) if s.gan == "wgan-gp")
    trainer = GroupTrainer([spec], torch.device("cpu"))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.critic.modules())


def test_batch_norm_critic_with_penalty_is_refused(tmp_path):
    config = parse_suite(_image_suite(image_model={"critic_norm": "batch", "filters": 8}))
    with pytest.raises(BenchError, match="critic_norm 'batch' is invalid with wgan-gp"):
        run_suite(config, tmp_path / "out", "cpu", workers=1, show_progress=False)
    assert not (tmp_path / "out").exists()


def test_absent_dataset_fails_before_writing(tmp_path):
    from bench.core.environment import Environment

    config = parse_suite(_image_suite(datasets=["mnist"]))
    with pytest.raises(BenchError, match="--data-root"):
        run_suite(config, tmp_path / "out", "cpu", workers=1, show_progress=False,
                  env=Environment(data_root=tmp_path / "empty"))
    assert not (tmp_path / "out").exists()


def test_fid_without_weights_fails_before_writing(tmp_path, monkeypatch):
    from bench.core.environment import Environment

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))
    monkeypatch.delenv("GANBENCH_FID_WEIGHTS", raising=False)
    suite = _image_suite(datasets=["digits"])
    suite["eval"] = {**suite["eval"], "fid_samples": 100}
    with pytest.raises(BenchError, match="--fid-weights"):
        run_suite(parse_suite(suite), tmp_path / "out", "cpu", workers=1,
                  show_progress=False, env=Environment())
    assert not (tmp_path / "out").exists()
