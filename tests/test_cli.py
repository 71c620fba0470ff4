"""The command line end to end: outputs, report rebuilding, and every bad input."""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.cli import main
from tests.conftest import tiny_suite

REPO = Path(__file__).resolve().parent.parent


def _write_suite(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(tiny_suite(**overrides)))
    return path


@pytest.fixture(scope="module")
def finished_suite(tmp_path_factory) -> Path:
    """A tiny suite run through the real CLI in a subprocess, with the process pool."""
    tmp = tmp_path_factory.mktemp("cli")
    suite = _write_suite(tmp, datasets=["ring8", "swissroll"], optimizers=["adam", "rmsprop"])
    out = tmp / "out"
    proc = subprocess.run(
        [sys.executable, "run_bench.py", "run", "--suite", str(suite), "--out", str(out),
         "--device", "cpu", "--workers", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"report: {out / 'report.md'}" in proc.stdout
    return out


def test_run_writes_every_output(finished_suite: Path):
    out = finished_suite
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert len(runs) == 2 * 3 * 2 * 2  # datasets x GANs x optimizers x seeds
    for run in (out / "runs").iterdir():
        for name in ("config.json", "provenance.json", "metrics.csv", "status.json",
                     "samples.npz", "models.pt"):
            assert (run / name).is_file(), f"{run.name}/{name}"
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 24 and set(summary["status"]) == {"finished"}
    assert (summary["generator_steps"] == 6).all()
    assert summary["final_w1"].notna().all()
    # the summary's final mode count is each run's last modes_captured row, a whole number
    metrics = pd.concat(pd.read_csv(run / "metrics.csv").assign(run_id=run.name)
                        for run in (out / "runs").iterdir())
    last = metrics[(metrics["metric"] == "modes_captured") & (metrics["step"] == 6)]
    ring = summary[summary["dataset"] == "ring8"].set_index("run_id")["final_modes_captured"]
    assert ring.sort_index().tolist() == last.set_index("run_id")["value"].sort_index().tolist()
    assert len(ring) == 12 and (ring == ring.round()).all()
    assert summary[summary["dataset"] == "swissroll"]["final_modes_captured"].isna().all()
    for name in ("cells.csv", "divergence.csv", "ring8.md", "swissroll.md"):
        assert (out / "tables" / name).is_file()
    for name in ("w1_vs_step.png", "w1_vs_time.png", "final_metrics.png",
                 "samples_ring8.png", "samples_swissroll.png", "modes_vs_step.png"):
        assert (out / "plots" / name).stat().st_size > 5000
    report = (out / "report.md").read_text()
    assert "| gan | adam | 2 | 0 |" in report and "plots/w1_vs_step.png" in report
    # every run is a plain ReLU MLP: the fused step (on by default) trained all 24
    assert "fused MLP step 24 of 24 runs (the others: autograd)" in report


def test_metrics_rows_are_tidy_and_cover_checkpoints(finished_suite: Path):
    rows = pd.read_csv(finished_suite / "runs" / "ring8__wgan-gp__adam__s0" / "metrics.csv")
    assert list(rows.columns) == ["step", "metric", "value"]
    assert sorted(rows["step"].unique()) == [0, 3, 6]
    at_end = set(rows[rows["step"] == 6]["metric"])
    assert {"w1", "modes_captured", "hq_fraction", "reverse_kl_hq", "critic_gap",
            "divergence_estimate", "critic_loss", "generator_loss", "penalty",
            "gen_steps_per_s", "critic_steps_per_s", "samples_per_s", "critic_steps",
            "real_samples", "train_seconds", "eval_seconds"} <= at_end


def test_report_rebuilds_from_store_without_training(finished_suite: Path):
    derived = ["report.md", "summary.csv", "plots", "tables"]
    before = sorted(str(p.relative_to(finished_suite)) for name in derived
                    for p in [finished_suite / name, *(finished_suite / name).rglob("*")])
    summary = (finished_suite / "summary.csv").read_text()
    for name in derived:
        path = finished_suite / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert main(["report", str(finished_suite)]) == 0
    after = sorted(str(p.relative_to(finished_suite)) for name in derived
                   for p in [finished_suite / name, *(finished_suite / name).rglob("*")])
    assert after == before
    assert (finished_suite / "summary.csv").read_text() == summary


def test_rerun_same_out_skips_finished_runs(finished_suite: Path, capsys):
    suite = finished_suite.parent / "suite.yaml"
    code = main(["run", "--suite", str(suite), "--out", str(finished_suite), "--no-progress"])
    assert code == 0
    assert "trained 0 runs (0 diverged, 24 already done)" in capsys.readouterr().out


def test_run_no_report_stores_the_runs_and_leaves_the_report_to_report(tmp_path, capsys):
    suite = _write_suite(tmp_path, gans=["wgan-gp"], seeds=1)
    out = tmp_path / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out), "--no-progress",
                 "--no-report", "--workers", "1"]) == 0
    assert "report:" not in capsys.readouterr().out
    assert (out / "runs" / "ring8__wgan-gp__adam__s0" / "status.json").exists()
    assert not (out / "report.md").exists() and not (out / "summary.csv").exists()
    assert main(["report", str(out)]) == 0 and (out / "report.md").exists()


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("wgan-gp", "wgan-clip", "ring8-pacgan", "swissroll", "quick", "paper-toy",
                 "rmsprop", "real_samples", "w1"):
        assert name in out


BAD_SUITES = {
    "unknown GAN": ({"gans": ["wgan-xx"]}, "unknown name 'wgan-xx'; valid: gan, wgan-clip"),
    "unknown dataset": ({"datasets": ["ring9"]}, "unknown name 'ring9'"),
    "unknown optimizer": ({"optimizers": ["adagrad"]},
                          "optimizers[0].name: got 'adagrad'; valid: adam, rmsprop, sgd, adamw, "
                          "optimistic-adam, extra-adam, extra-sgd, past-extra-adam, "
                          "past-extra-sgd, recipe"),
    "zero budget": ({"budget": {"generator_steps": 0}},
                    "budget.generator_steps: expected an integer >= 1, got 0"),
    "negative budget": ({"budget": {"seconds": -1}}, "budget.seconds: expected a number > 0"),
    "unknown budget": ({"budget": {"epochs": 3}}, "unknown budget 'epochs'"),
    "two budgets": ({"budget": {"seconds": 3, "generator_steps": 3}}, "exactly one"),
    "mistyped seeds": ({"seeds": "three"}, "seeds: expected a count"),
    "mistyped width": ({"model": {"width": "wide"}}, "model.width: expected an integer"),
    "unknown key": ({"batchsize": 64}, "unknown key(s) ['batchsize']"),
    "unknown FID split": ({"eval": {"fid_reference": "val"}},
                          "eval.fid_reference: got 'val'; valid: train, test"),
    "unknown image arch": ({"image_model": {"arch": "resnet"}}, "image_model.arch"),
    "unknown recipe field": ({"recipes": {"wgan-gp": {"lamda": 1}}}, "recipes.wgan-gp"),
    "impossible budget": ({"budget": {"critic_steps": 2}, "gans": ["wgan-gp"]},
                          "too small for wgan-gp"),
}


@pytest.mark.parametrize("case", sorted(BAD_SUITES))
def test_bad_suite_is_one_line_exit_2_nothing_written(case, tmp_path, capsys):
    overrides, expected = BAD_SUITES[case]
    suite = _write_suite(tmp_path, **overrides)
    out = tmp_path / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and expected in err and "\n" not in err
    assert not out.exists()


def test_malformed_yaml(tmp_path, capsys):
    suite = tmp_path / "bad.yaml"
    suite.write_text("name: x\ndatasets: [ring8\n")
    out = tmp_path / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "malformed YAML" in err and err.count("\n") == 1
    assert not out.exists()


def test_unknown_builtin_suite(tmp_path, capsys):
    assert main(["run", "--suite", "quik", "--out", str(tmp_path / "o")]) == 2
    assert "unknown suite 'quik'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("budget", "message"), [
    ("generator_steps=-4", "expected an integer >= 1, got -4"),
    ("generator_steps", "use KIND=AMOUNT"),
    ("epochs=3", "unknown budget 'epochs'"),
    ("seconds=fast", "'fast' is not a number"),
])
def test_cli_budget_override_rejects_nonsense(budget, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--budget", budget, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --budget: ") and message in err
    assert err.count("\n") == 1 and not out.exists()


def test_report_on_a_non_results_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err
