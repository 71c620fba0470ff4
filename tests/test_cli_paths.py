"""The command line's other paths: the default command, --seeds / --budget overrides,
TensorBoard export and its refusals, --resume refusals, a failing group, Ctrl-C, the
machine-side options and a refused device. Tiny suites: each test trains for seconds."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from bench.cli import main
from bench.config.suite import parse_suite
from bench.orchestration.executors import local
from bench.orchestration.runner import SuiteOutcome, run_suite
from bench.storage.store import ResultsStore
from bench.training.accel import policy
from tests.conftest import tiny_suite

REPO = Path(__file__).resolve().parent.parent
SUITE = tiny_suite(gans=["gan", "wgan-clip"], seeds=1, budget={"generator_steps": 2},
                   eval={"every": 2, "samples": 200, "w1_samples": 50, "critic_samples": 100})
CPU = ["--device", "cpu", "--workers", "1", "--no-progress"]


def _suite_file(tmp_path: Path, suite: dict = SUITE) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


@pytest.fixture
def no_report(monkeypatch):
    """The report is tested elsewhere; these tests need only the runs."""
    monkeypatch.setattr("bench.report.build.build_report", lambda root, *_: root / "report.md")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """SUITE trained (no report)."""
    out = tmp_path_factory.mktemp("finished") / "out"
    outcome = run_suite(parse_suite(SUITE), out, "cpu", workers=1, show_progress=False)
    assert outcome.ran == 2 and not outcome.failures
    return out


def _one_error_line(capsys, expected: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1, err


# --- the default command -----------------------------------------------------------------


def test_no_arguments_or_a_flag_first_runs_the_default_command(monkeypatch, capsys):
    calls = []

    def record(config, out, *args, **kwargs):
        calls.append((config, out))
        return SuiteOutcome(root=out)  # nothing trained, so no report either

    monkeypatch.setattr("bench.orchestration.runner.run_suite", record)
    monkeypatch.setattr(sys, "argv", ["run_bench.py"])
    assert main() == 0  # what run_bench.py calls, with no arguments
    assert main(["--seeds", "2", "--no-progress"]) == 0
    (quick, out), (quick_two_seeds, _) = calls
    assert quick.name == "quick" and out.parent == Path("results")
    assert out.name.startswith("quick-") and not out.exists()
    assert quick.seeds == (0, 1, 2) and quick_two_seeds.seeds == (0, 1)
    assert "suite 'quick': 36 runs" in capsys.readouterr().out


def test_overrides_reach_every_run(tmp_path, no_report, capsys):
    out = tmp_path / "out"
    # a flag first: the default command
    assert main(["--suite", str(_suite_file(tmp_path)), "--out", str(out), "--seeds", "3",
                 "--budget", "generator_steps=4", *CPU]) == 0
    assert "trained 6 runs" in capsys.readouterr().out
    runs = sorted((out / "runs").iterdir())
    assert [r.name for r in runs] == [f"ring8__{gan}__adam__s{seed}"
                                      for gan in ("gan", "wgan-clip") for seed in range(3)]
    for run in runs:
        config = json.loads((run / "config.json").read_text())
        assert config["budget"] == {"kind": "generator_steps", "amount": 4}, run.name
        status = json.loads((run / "status.json").read_text())
        assert status["counters"]["generator_steps"] == 4, run.name
    saved = yaml.safe_load((out / "suite.yaml").read_text())
    assert saved["seeds"] == [0, 1, 2] and saved["budget"] == {"generator_steps": 4}


# --- TensorBoard ---------------------------------------------------------------------------


def test_run_and_report_export_to_tensorboard(tmp_path, no_report, capsys):
    pytest.importorskip("tensorboard")
    out, board = tmp_path / "out", tmp_path / "board"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--tensorboard", str(board), *CPU]) == 0
    assert f"tensorboard: {board}" in capsys.readouterr().out
    runs = sorted(p.name for p in (out / "runs").iterdir())
    for log_dir in (board, tmp_path / "again"):
        if log_dir != board:
            assert main(["report", str(out), "--tensorboard", str(log_dir)]) == 0
            assert f"tensorboard: {log_dir}" in capsys.readouterr().out
        exported = sorted(p.name for p in log_dir.iterdir() if p.is_dir())
        assert exported == runs
        for run in runs:
            assert list((log_dir / run).glob("events.out.tfevents.*")), run


def _unusable_log_dirs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    return {"file": (a_file, "is not a TensorBoard export"),
            "foreign": (foreign, "is not a TensorBoard export")}


@pytest.mark.parametrize("case", ["missing package", "file", "foreign"])
def test_run_refuses_an_export_that_would_fail_before_training(case, tmp_path, monkeypatch,
                                                                 capsys):
    if case == "missing package":
        monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
        board, message = tmp_path / "board", 'pip install -e ".[tensorboard]"'
    else:
        board, message = _unusable_log_dirs(tmp_path)[case]
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--tensorboard", str(board), *CPU]) == 2
    _one_error_line(capsys, message)
    assert not out.exists()


def test_report_refuses_an_unusable_export_folder_writing_nothing(finished, tmp_path, capsys):
    for board, message in _unusable_log_dirs(tmp_path).values():
        assert main(["report", str(finished), "--tensorboard", str(board)]) == 2
        _one_error_line(capsys, message)
        assert not (finished / "report.md").exists()


# --- resume, failures, interruption ------------------------------------------------------------


@pytest.mark.parametrize("extra", [["--suite", "quick"], ["--out", "elsewhere"],
                                   ["--seeds", "2"], ["--budget", "generator_steps=3"]])
def test_resume_with_suite_options_is_refused(finished, extra, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in finished.iterdir())
    assert main(["run", "--resume", str(finished), *extra, *CPU]) == 2
    _one_error_line(capsys, "--resume DIR runs the suite saved in DIR/suite.yaml")
    assert sorted(p.name for p in finished.iterdir()) == before
    assert not list(tmp_path.iterdir())


def test_a_failing_group_exits_1_names_it_and_the_suite_goes_on(tmp_path, monkeypatch,
                                                                 no_report, capsys):
    train = local.run_task

    def failing_clip(task, *args, **kwargs):
        if task.specs[0].gan == "wgan-clip":
            raise RuntimeError("planted failure")
        return train(task, *args, **kwargs)

    monkeypatch.setattr(local, "run_task", failing_clip)
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out), *CPU]) == 1
    captured = capsys.readouterr()
    assert "trained 1 runs" in captured.out
    assert "error: failed: ring8/wgan-clip/adam seeds 0:" in captured.err
    assert "RuntimeError: planted failure" in captured.err
    assert f"'run_bench.py run --resume {out}' retries what failed" in captured.err
    assert ResultsStore(out).finished_run_ids() == {"ring8__gan__adam__s0"}
    monkeypatch.setattr(local, "run_task", train)
    assert main(["run", "--resume", str(out), *CPU]) == 0
    assert "trained 1 runs (0 diverged, 1 already done)" in capsys.readouterr().out


def test_ctrl_c_exits_130_and_keeps_finished_runs(tmp_path):
    # 6 groups of one seed: five left to train when the first is stored (200 steps each, so
    # the fused step does not finish them all before the signal)
    suite = tiny_suite(optimizers=["adam", "rmsprop"], seeds=1, budget={"generator_steps": 200},
                       eval={"every": 100, "samples": 200, "w1_samples": 50,
                             "critic_samples": 100})
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [sys.executable, "run_bench.py", "run", "--suite", str(_suite_file(tmp_path, suite)),
         "--out", str(out), *CPU], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
        # a SIGINT ignored by this process (a test runner's worker may ignore it) would be
        # inherited, and Python then keeps ignoring it: the user's Ctrl-C is the default's
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    store = ResultsStore(out)
    deadline = time.monotonic() + 240
    while not (out / "runs").is_dir() or not store.finished_run_ids():
        assert driver.poll() is None, driver.communicate()[1]
        assert time.monotonic() < deadline, "no run finished within 240 s"
        time.sleep(0.02)
    kept = store.finished_run_ids()
    driver.send_signal(signal.SIGINT)
    stdout, stderr = driver.communicate(timeout=240)  # unwinding is slow on a loaded VM
    assert driver.returncode == 130, stdout + stderr
    assert "interrupted: finished runs and checkpoints are kept" in stderr
    assert kept <= store.finished_run_ids() < {f"ring8__{gan}__{opt}__s0" for gan in
                                                ("gan", "wgan-clip", "wgan-gp")
                                                for opt in ("adam", "rmsprop")}


# --- machine-side options and devices ------------------------------------------------------


def test_machine_side_options_reach_the_runs_provenance(tmp_path, monkeypatch, no_report):
    monkeypatch.setattr(policy, "COMPILE_BACKEND", "aot_eager")  # inductor's speed: not here
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"not read: a toy suite computes no FID")
    paths = {"--data-root": tmp_path / "data", "--fid-weights": weights,
             "--cache-dir": tmp_path / "cache"}
    out = tmp_path / "out"
    suite = _suite_file(tmp_path, SUITE | {"gans": ["gan"]})
    # the fused step calls no network module: off, so that the networks compile
    assert main(["run", "--suite", str(suite), "--out", str(out), "--compile", "on",
                 "--channels-last", "off", "--fused", "off",
                 *[str(a) for kv in paths.items() for a in kv], *CPU]) == 0
    provenance = json.loads((out / "runs" / "ring8__gan__adam__s0" / "provenance.json")
                            .read_text())
    assert provenance["environment"] == {
        "data_root": str(paths["--data-root"]), "download": False,
        "fid_weights": str(weights), "cache_dir": str(paths["--cache-dir"]),
        "compile": "on", "cuda_graphs": "auto", "channels_last": "off", "fused": "off"}
    # compiled for real: both networks of the GAN (no gradient penalty), no fall-back
    assert provenance["acceleration"]["compile"] == ["generator", "critic"]


def test_device_cuda_without_cuda_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--device", "cuda", "--no-progress"]) == 2
    _one_error_line(capsys, "--device cuda: no CUDA device is available")
    assert not out.exists()
