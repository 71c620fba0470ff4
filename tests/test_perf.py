"""``run_bench.py perf``: the reference loop trains, and the comparison runs end to end."""

import contextlib
import io
import json
import math
import warnings

import numpy as np
import pytest
import torch

from bench.cli import main
from bench.core.hyperparameters import optimizer_values
from bench.perf.reference_loop import ReferenceConfig, ReferenceWGANGP, eight_gaussians
from bench.perf.side_by_side import REFERENCE, suite_specs
from bench.training.member_optimizers import make_optimizer

TINY = ["--steps", "3", "--warmup", "1", "--width", "16", "--seeds", "1", "2",
        "--fid-dim", "16", "--fid-samples", "200", "--threads", "1", "--fid-images", "0"]


def test_reference_data_is_the_8_gaussians_of_the_reference():
    batch = next(eight_gaussians(512))
    assert batch.shape == (512, 2) and batch.dtype == np.float32
    radius = np.linalg.norm(batch, axis=1)
    assert np.allclose(radius, 2 / 1.414, atol=0.1)  # centres at 2 / 1.414, std 0.0141
    angles = np.round(np.arctan2(batch[:, 1], batch[:, 0]) / (np.pi / 4)) % 8
    assert len(set(angles.astype(int))) == 8


def test_reference_loop_runs_with_finite_losses_and_logs_each_iteration():
    model = ReferenceWGANGP(ReferenceConfig(width=16, batch_size=32))
    model.train(3)
    for name, values in model.log.items():
        assert len(values) == 3 and all(math.isfinite(v) for v in values), name


def test_reference_loop_trains_its_critic():
    # weights start at N(0, 0.02), so the critic starts blind (W estimate ~0) and learns to
    # separate the ring from the generator's samples near the origin
    model = ReferenceWGANGP(ReferenceConfig(width=32, batch_size=64))
    model.train(20)
    w = model.log["wasserstein"]
    assert w[-1] > 0 and w[-1] > 10 * abs(w[0])


def test_suite_side_matches_the_reference_configuration():
    (spec,) = suite_specs(width=64, members=1, steps=5, every=5)
    assert (spec.dataset, spec.gan, spec.batch_size) == ("ring8", "wgan-gp", REFERENCE.batch_size)
    assert (spec.model.width, spec.model.depth, spec.model.latent_dim) == (64, 3, 2)
    assert spec.optimizer.name == "adam"
    assert (spec.optimizer.lr, spec.optimizer.betas) == (REFERENCE.lr, REFERENCE.betas)
    assert spec.recipe.n_critic == REFERENCE.critic_iters
    assert spec.recipe.gp_weight == REFERENCE.penalty_weight and not spec.recipe.warmup


@pytest.fixture(scope="module")
def perf_run(tmp_path_factory) -> tuple[str, dict]:
    """One tiny ``perf`` invocation: its printed table and the JSON it wrote with --out."""
    path = tmp_path_factory.mktemp("perf") / "sub" / "result.json"
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("ignore", DeprecationWarning)  # pytorch-fid's scipy sqrtm call
        # 3 images: the end-to-end FID's cost here is pytorch-fid's 2048-d sqrtm (~12 s)
        assert main(["perf", *TINY, "--fid-images", "3", "--out", str(path)]) == 0
    return out.getvalue(), json.loads(path.read_text())


def test_perf_command_prints_both_loops_and_ratios(perf_run):
    table, _ = perf_run
    rows = [line.split() for line in table.splitlines() if line.startswith(("reference", "suite"))]
    assert [(r[0], r[1]) for r in rows] == [("reference", "1"), ("suite", "1"), ("suite", "2")]
    assert rows[0][4] == "1.00x" and all(float(r[4].rstrip("x")) > 0 for r in rows)
    # auto on a CPU: nothing compiled, no CUDA graphs; the suite's MLP loop takes the fused step
    assert [" ".join(r[5:]) for r in rows] == ["-", "fused MLP step", "fused MLP step"]
    assert "Frechet distance, 16-d" in table and "feature statistics, 200 x 16" in table


def test_perf_json_has_the_expected_keys(perf_run):
    _, result = perf_run
    assert {"options", "machine", "training", "frechet", "feature_stats"} <= set(result)
    assert {"device", "threads", "packages", "load_average_1m", "load_average_1m_end"} <= set(
        result["machine"])
    assert result["machine"]["threads"] == 1
    loops = result["training"]
    assert [(t["loop"], t["members"]) for t in loops] == [("reference", 1), ("suite", 1),
                                                          ("suite", 2)]
    for t in loops:
        assert {"steps", "seconds", "gen_steps_per_s", "samples_per_s",
                "ratio_vs_reference"} <= set(t)
        assert t["steps"] == 3  # per member; the rate is over all members
        assert t["gen_steps_per_s"] == pytest.approx(t["members"] * 3 / t["seconds"])
        assert t["ratio_vs_reference"] == pytest.approx(
            t["gen_steps_per_s"] / loops[0]["gen_steps_per_s"])
        assert t["samples_per_s"] == pytest.approx(
            t["gen_steps_per_s"] * REFERENCE.critic_iters * REFERENCE.batch_size)
    assert loops[0]["ratio_vs_reference"] == 1.0
    frechet = result["frechet"]
    assert frechet["pytorch_fid"] == pytest.approx(frechet["ours"], rel=1e-8)
    assert frechet["speedup"] == pytest.approx(
        frechet["pytorch_fid_seconds"] / frechet["ours_seconds"])
    assert frechet["speedup_cached"] == pytest.approx(
        frechet["pytorch_fid_seconds"] / frechet["ours_cached_seconds"])
    stats = result["feature_stats"]
    assert stats["max_rel_cov_diff"] < 1e-10
    assert stats["speedup"] == pytest.approx(stats["numpy_seconds"] / stats["ours_seconds"])


def test_fid_end_to_end_matches_pytorch_fid_on_the_same_images(perf_run):
    table, result = perf_run
    e2e = result["fid_end_to_end"]
    assert e2e["images"] == 3 and e2e["weights"] == "random (timing only)"
    assert e2e["channels_last"]
    assert e2e["speedup"] == pytest.approx(e2e["pytorch_fid_seconds"] / e2e["ours_seconds"])
    # same weights, same images: only float32 summation order and sqrtm vs eigh differ
    assert e2e["ours"] == pytest.approx(e2e["pytorch_fid"], rel=1e-5)
    assert "FID end to end, 3 images" in table and "timing only" in table


def test_perf_json_goes_to_stdout_with_json(capsys):
    assert main(["perf", *TINY, "--seeds", "1", "--no-fid", "--json", "--repeats", "2"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert captured.err.splitlines() == [  # each timed loop announced on stderr
        f"perf: round {r}/2: {loop}" for r in (1, 2)
        for loop in ("the reference loop", "the suite's loop, 1 member(s)")]
    assert [t["loop"] for t in result["training"]] == ["reference", "suite"]
    for t in result["training"]:  # the median of two rounds is the faster one
        assert len(t["seconds_per_round"]) == 2 and t["seconds"] == min(t["seconds_per_round"])
    assert "frechet" not in result


def test_perf_refuses_cuda_without_a_gpu(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["perf", *TINY, "--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_optimizers_use_fused_kernels_on_the_cpu():
    (spec,) = suite_specs(width=8, members=1, steps=5, every=5)
    params = [torch.zeros(3, requires_grad=True)]
    adam = make_optimizer("adam", params, optimizer_values(spec.optimizer, "critic"), members=False)
    assert adam.defaults["fused"]
    rmsprop = make_optimizer("rmsprop", params, {"lr": spec.optimizer.lr}, members=False)
    assert rmsprop.defaults["foreach"]  # torch has no fused RMSProp


def test_perf_refuses_missing_fid_weights_before_timing(tmp_path, capsys):
    assert main(["perf", *TINY, "--fid-weights", str(tmp_path / "nowhere.pth")]) == 2
    err = capsys.readouterr().err
    assert "nowhere.pth" in err and err.count("\n") == 1


def test_perf_refuses_cuda_graphs_on_a_cpu(capsys):
    assert main(["perf", *TINY, "--device", "cpu", "--cuda-graphs", "on"]) == 2
    assert "--cuda-graphs on needs --device cuda" in capsys.readouterr().err


def test_perf_study_times_both_ways_on_the_same_trials(capsys):
    assert main(["perf", "--study", "--trials", "3", "--study-seeds", "2", "--width", "8",
                 "--steps", "4", "--warmup", "2", "--device", "cpu", "--threads", "1",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["trials"], result["seeds"], result["steps"]) == (3, 2, 4)
    assert result["threads"] == 1
    assert result["batched_seconds"] > 0 and result["separate_seconds"] > 0
    assert result["speedup"] == pytest.approx(
        result["separate_seconds"] / result["batched_seconds"])
