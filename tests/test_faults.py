"""Kill tests: SIGKILL the driver or a pool worker mid-suite; resuming (or the driver itself)
completes the suite with exactly the uninterrupted results, no row lost or duplicated."""

import os
import random
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
from bench.orchestration.executors.local import LocalExecutor
from bench.orchestration.runner import run_suite
from bench.storage.store import ResultsStore
from tests.conftest import tiny_suite
from tests.same_results import assert_same_results

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")

REPO = Path(__file__).resolve().parent.parent
# 12 groups of one seed, 12 checkpoints each: a second or two of training on two workers
SUITE = tiny_suite(optimizers=["adam", "rmsprop"], group_size=1,
                   budget={"generator_steps": 60},
                   eval={"every": 5, "samples": 200, "w1_samples": 50, "critic_samples": 100})
RUNS = 12
# a study: 2 cells x (2 recipe runs + 2 trials x 2 seeds + 2 reruns), groups of 2 members,
# so a kill can land in the trials or in the reruns chosen from them
STUDY = SUITE | {"name": "tiny-study", "gans": ["wgan-gp"], "seeds": 2, "group_size": 2,
                 "search": {"trials": 2, "space": {"lr": {"log_uniform": [1e-4, 1e-2]},
                                                   "gp_weight": {"log_uniform": [0.01, 1]}},
                            "rerun_best": {"seeds": 2}}}
STUDY_RUNS = 16
DRIVER = ("import sys; from pathlib import Path; from bench.config.suite import load_suite; "
          "from bench.orchestration.runner import run_suite; "
          "o = run_suite(load_suite(sys.argv[1]), "
          "Path(sys.argv[2]), 'cpu', workers=2, show_progress=False); "
          "sys.exit(1 if o.failures else 0)")


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The suite run without interruption (in this process)."""
    torch.set_num_threads(1)  # as in the workers; set before the per-test fixture runs
    out = tmp_path_factory.mktemp("reference") / "out"
    outcome = run_suite(parse_suite(SUITE), out, "cpu", workers=1, show_progress=False)
    assert outcome.ran == RUNS and not outcome.failures
    return out


def _pool_workers(driver: int) -> list[int]:
    """Pids of the driver's spawned pool workers (not its resource tracker)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
        if parent == driver and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def _wait_for(condition, process: subprocess.Popen, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the driver exited ({process.returncode}) before {what}: "
                        f"{process.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _checkpoints(out: Path) -> list[Path]:
    return list((out / "checkpoints").glob("*.pt"))


@pytest.fixture(scope="module")
def study_reference(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("study-reference") / "out"
    outcome = run_suite(parse_suite(STUDY), out, "cpu", workers=1, show_progress=False)
    assert outcome.ran == STUDY_RUNS and not outcome.failures
    return out


def test_study_driver_killed_resumes_to_the_uninterrupted_results(
    tmp_path, study_reference, monkeypatch, capsys
):
    suite_file = tmp_path / "study.yaml"
    suite_file.write_text(yaml.safe_dump(STUDY))
    out = tmp_path / "out"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(suite_file), str(out)],
                              cwd=REPO, stderr=subprocess.PIPE, text=True)
    target = random.Random(1).randint(2, STUDY_RUNS - 2)  # in the trials or in the reruns
    store = ResultsStore(out)
    _wait_for(lambda: len(store.finished_run_ids()) >= target, driver, f"{target} runs")
    assert driver.poll() is None, f"the study finished before the kill at {target} runs"
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    stored = len(store.finished_run_ids())
    monkeypatch.setattr("bench.report.build.build_report", lambda root, *_: root / "report.md")
    assert main(["run", "--resume", str(out), "--device", "cpu", "--workers", "1",
                 "--no-progress"]) == 0, f"killed at {target} runs, {stored} stored"
    assert f"trained {STUDY_RUNS - stored} runs" in capsys.readouterr().out
    assert_same_results(out, study_reference)


def test_driver_killed_at_a_random_point_resumes_to_the_uninterrupted_results(
    tmp_path, suite_file, reference, monkeypatch, capsys
):
    out = tmp_path / "out"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(suite_file), str(out)],
                              cwd=REPO, stderr=subprocess.PIPE, text=True)
    # a seeded random point: after 0 to RUNS - 6 stored runs and 0 to 0.2 s more
    rng = random.Random(0)
    target, delay = rng.randint(0, RUNS - 6), rng.uniform(0, 0.2)
    point = f"kill point: {target} stored runs + {delay:.3f} s"
    store = ResultsStore(out)
    _wait_for(lambda: _checkpoints(out) and len(store.finished_run_ids()) >= target, driver,
              f"{target} stored runs")
    time.sleep(delay)
    workers = _pool_workers(driver.pid)
    assert driver.poll() is None, f"the suite finished before the kill ({point})"
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    deadline = time.monotonic() + 30  # orphaned workers notice their driver died and exit
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, f"orphaned workers {workers} still run"
        time.sleep(0.05)
    stored = len(store.finished_run_ids())
    state = (f"{point}: killed with {stored} runs stored and checkpoints "
             f"{_checkpoints(out)}")

    monkeypatch.setattr("bench.report.build.build_report", lambda root, *_: root / "report.md")
    code = main(["run", "--resume", str(out), "--device", "cpu", "--workers", "1",
                 "--no-progress"])
    assert code == 0, state
    assert f"trained {RUNS - stored} runs" in capsys.readouterr().out, state
    assert_same_results(out, reference)
    assert not _checkpoints(out), state  # every group stored, every checkpoint deleted


def test_killed_worker_is_replaced_and_its_groups_continue(tmp_path, suite_file, reference):
    out = tmp_path / "out"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(suite_file), str(out)],
                              cwd=REPO, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _checkpoints(out) and _pool_workers(driver.pid), driver,
              "a worker's first checkpoint")
    os.kill(_pool_workers(driver.pid)[0], signal.SIGKILL)
    stderr = driver.communicate(timeout=240)[1]
    assert driver.returncode == 0, stderr
    assert "a worker process died; restarting the pool" in stderr
    assert_same_results(out, reference)
    outcome = run_suite(parse_suite(SUITE), out, "cpu", workers=1, show_progress=False)
    assert (outcome.ran, outcome.skipped) == (0, RUNS)  # nothing left, nothing run twice


def test_groups_lost_twice_are_failures_a_resume_completes(tmp_path, monkeypatch, reference):
    # every pool pass loses every group, as if each worker were killed again
    monkeypatch.setattr(LocalExecutor, "_run_in_pool", lambda self, tasks, events: tasks)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="worker process died"):
        outcome = run_suite(parse_suite(SUITE), out, "cpu", workers=2, show_progress=False)
    assert outcome.ran == 0 and len(outcome.failures) == RUNS
    assert "died twice" in outcome.failures[0] and "--resume" in outcome.failures[0]
    monkeypatch.undo()
    outcome = run_suite(parse_suite(SUITE), out, "cpu", workers=1, show_progress=False)
    assert outcome.ran == RUNS and not outcome.failures
    assert_same_results(out, reference)
