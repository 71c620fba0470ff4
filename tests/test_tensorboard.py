"""TensorBoard export: a tiny finished suite exported, its event files read back as
TensorBoard reads them."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
)
from tensorboard.plugins.hparams import metadata, plugin_data_pb2  # noqa: E402

from bench.config.suite import parse_suite  # noqa: E402
from bench.core.errors import BenchError  # noqa: E402
from bench.orchestration.runner import run_suite  # noqa: E402
from bench.report.tensorboard import (  # noqa: E402
    final_outcomes,
    run_hparams,
    write_tensorboard,
)
from tests.conftest import tiny_suite  # noqa: E402

TOY_RUN = "ring8__gan__adam__s0"
IMAGE_RUN = "digits__dcgan__gan__adam__s0"


def _run(suite: dict, out: Path) -> Path:
    outcome = run_suite(parse_suite(suite), out, "cpu", workers=1, show_progress=False)
    assert not outcome.failures, outcome.failures
    return out


@pytest.fixture(scope="module")
def toy_results(tmp_path_factory) -> Path:
    """ring8: 2 GANs x 1 optimizer x 2 seeds, 6 generator steps."""
    return _run(tiny_suite(gans=["gan", "wgan-gp"]), tmp_path_factory.mktemp("toy") / "out")


@pytest.fixture(scope="module")
def image_results(tmp_path_factory) -> Path:
    """One digits run of 2 generator steps, a grid at each."""
    suite = tiny_suite(name="tiny-images", datasets=["digits"], gans=["gan"], seeds=1,
                       budget={"generator_steps": 2}, batch_size=16,
                       image_model={"filters": 8, "latent_dim": 16},
                       eval={"every": 1, "samples": 300, "critic_samples": 64})
    return _run(suite, tmp_path_factory.mktemp("images") / "out")


@pytest.fixture(scope="module")
def toy_export(toy_results, tmp_path_factory) -> Path:
    return write_tensorboard(toy_results, tmp_path_factory.mktemp("tb") / "toy")


def _events(run_dir: Path) -> EventAccumulator:
    return EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0}).Reload()


def _session_hparams(run_dir: Path) -> dict:
    content = _events(run_dir).PluginTagToContent("hparams")[metadata.SESSION_START_INFO_TAG]
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {name: getattr(value, value.WhichOneof("kind")) for name, value in info.hparams.items()}


def _event_count(log_dir: Path) -> int:
    return sum(1 for path in log_dir.rglob("events.out.tfevents.*")
               for _ in EventFileLoader(str(path)).Load())


def test_every_run_gets_its_own_folder(toy_results, toy_export):
    runs = sorted(p.name for p in (toy_results / "runs").iterdir())
    assert len(runs) == 2 * 2
    assert sorted(p.name for p in toy_export.iterdir() if p.is_dir()) == runs


def test_w1_curve_is_the_runs_metric_rows(toy_results, toy_export):
    rows = pd.read_csv(toy_results / "runs" / TOY_RUN / "metrics.csv")
    w1 = rows[rows["metric"] == "w1"]
    curve = _events(toy_export / TOY_RUN).Scalars("quality/w1")
    assert [e.step for e in curve] == w1["step"].tolist() == [0, 3, 6]
    assert [e.value for e in curve] == pytest.approx(w1["value"].tolist(), rel=1e-6)


def test_every_defined_metric_value_is_a_point(toy_results, toy_export):
    rows = pd.read_csv(toy_results / "runs" / TOY_RUN / "metrics.csv").dropna()
    events = _events(toy_export / TOY_RUN)
    curves = [tag for tag in events.Tags()["scalars"] if not tag.startswith("final/")]
    assert sum(len(events.Scalars(tag)) for tag in curves) == len(rows)
    assert {"loss/critic_loss", "throughput/gen_steps_per_s", "counters/real_samples",
            "modes/modes_captured"} <= set(curves)


def test_hparams_hold_the_runs_settings_and_final_metrics(toy_results, toy_export):
    config = json.loads((toy_results / "runs" / TOY_RUN / "config.json").read_text())
    hparams = _session_hparams(toy_export / TOY_RUN)
    assert hparams["lr"] == pytest.approx(config["optimizer"]["lr"]) == pytest.approx(2e-4)
    assert hparams["gan"] == config["gan"] == "gan"
    assert hparams["status"] == "finished" and hparams["seed"] == 0
    # a plain suite's runs have no study section, or the recipe phase of one
    assert hparams.get("study.phase") == config.get("study", {}).get("phase")
    events = _events(toy_export / TOY_RUN)
    final_w1 = events.Scalars("final/w1")
    assert [e.step for e in final_w1] == [6]
    assert final_w1[0].value == pytest.approx(events.Scalars("quality/w1")[-1].value)


def test_image_run_has_a_sample_grid_per_checkpoint(image_results, tmp_path):
    export = write_tensorboard(image_results, tmp_path / "tb")
    samples = _events(export / IMAGE_RUN).Images("samples")
    assert [image.step for image in samples] == [0, 1, 2]
    with Image.open(image_results / "runs" / IMAGE_RUN / "images" / "step_0000002.png") as png:
        assert (samples[-1].width, samples[-1].height) == png.size
    assert "final/fd_digits" in _events(export / IMAGE_RUN).Tags()["scalars"]


def test_study_phase_and_trial_become_hparams():
    config = {"dataset": "ring8", "gan": "wgan-gp", "optimizer_label": "adam",
              "optimizer": {"name": "adam", "lr": 3e-4, "betas": [0.5, 0.9]},
              "recipe": {"n_critic": 5, "clip_value": 0.01, "gp_weight": 10.0}, "seed": 1}
    trial = {**config, "study": {"phase": "trial", "trial": 3, "params": {"lr": 3e-4}}}
    assert run_hparams(trial, "finished") == {
        "dataset": "ring8", "gan": "wgan-gp", "optimizer": "adam", "optimizer_name": "adam",
        "lr": 3e-4, "lr_critic": 3e-4, "lr_generator": 3e-4, "beta1": 0.5, "beta2": 0.9,
        "n_critic": 5, "clip_value": 0.01,
        "gp_weight": 10.0, "seed": 1, "status": "finished", "study.phase": "trial",
        "study.trial": 3}
    recipe = {**config, "study": {"phase": "recipe", "trial": None, "params": {}}}
    assert run_hparams(recipe, "diverged")["study.phase"] == "recipe"
    assert "study.trial" not in run_hparams(recipe, "diverged")


def test_empty_final_metrics_are_left_out():
    row = pd.Series({"final_w1": float("nan"), "final_modes_captured": 3.0,
                     "final_critic_loss": 1.0})
    assert final_outcomes(row) == {"final/modes_captured": 3.0}


def test_exporting_again_writes_the_same_events(toy_results, tmp_path):
    log_dir = tmp_path / "tb"
    write_tensorboard(toy_results, log_dir)
    first = (_event_count(log_dir), len(list(log_dir.rglob("events.out.tfevents.*"))))
    write_tensorboard(toy_results, log_dir)
    assert (_event_count(log_dir), len(list(log_dir.rglob("events.out.tfevents.*")))) == first


def test_folder_of_anything_else_is_refused(toy_results, image_results, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(BenchError, match="is not a TensorBoard export"):
        write_tensorboard(toy_results, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    write_tensorboard(toy_results, tmp_path / "tb")
    with pytest.raises(BenchError, match="holds the TensorBoard export of"):
        write_tensorboard(image_results, tmp_path / "tb")


def test_missing_tensorboard_is_a_one_line_error(toy_results, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(BenchError) as error:
        write_tensorboard(toy_results, tmp_path / "tb")
    assert 'pip install -e ".[tensorboard]"' in str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "tb").exists()
