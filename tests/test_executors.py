"""Executors: choosing one, Ray's absence explained, the same results whichever ran, and
the side experiments beside the groups."""

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.cli import main
from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.errors import BenchError
from bench.orchestration import runner
from bench.orchestration.executors import ExperimentTask, GroupTask, make_executor
from bench.orchestration.executors.local import LocalExecutor
from bench.orchestration.runner import plan_groups, run_suite
from bench.storage.critic_outputs import DIAGNOSTICS_DIR, GRADIENT_FILE
from bench.storage.experiment_outputs import (
    EXPERIMENTS_DIR,
    GAUSSIANS_CURVES_FILE,
    GAUSSIANS_GRADIENTS_FILE,
)
from bench.storage.store import ResultsStore
from bench.training.checkpoint import checkpoint_path
from tests.conftest import tiny_suite
from tests.same_results import assert_same_results

SUITE = tiny_suite(optimizers=["adam", "rmsprop"])  # 6 groups of 2 seeds


EXPERIMENTS = {  # every side experiment, a fraction of a second each
    "diagnostics": {"critic_steps": 4, "seeds": 2, "width": 8, "depth": 4, "batch_size": 16},
    "parallel_lines": {"thetas": 3, "seeds": 2, "critic_steps": 3, "generator_steps": 2,
                       "width": 8},
    "two_gaussians": {"seeds": 2, "critic_steps": 3, "width": 8},
}


def _experiment_files(root: Path) -> dict[str, bytes | dict[str, np.ndarray]]:
    """The side experiments' files: CSV bytes, .npz arrays (a zip stamps its write time)."""
    files = {}
    for path in sorted([*(root / DIAGNOSTICS_DIR).iterdir(), *(root / EXPERIMENTS_DIR).iterdir()]):
        if path.suffix == ".npz":
            with np.load(path) as arrays:
                files[path.name] = dict(arrays)
        else:
            files[path.name] = path.read_bytes()
    return files


def _assert_same_experiment_files(root: Path, reference: Path) -> None:
    """The same side-experiment files in both folders."""
    ours, theirs = _experiment_files(root), _experiment_files(reference)
    assert len(ours) == 6 and ours.keys() == theirs.keys()
    for name, content in ours.items():
        if isinstance(content, dict):
            assert content.keys() == theirs[name].keys()
            for key, array in content.items():
                np.testing.assert_array_equal(array, theirs[name][key], err_msg=name)
        else:
            assert content == theirs[name], name


def test_ray_executor_without_ray_explains_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes 'import ray' fail
    with pytest.raises(BenchError, match=r'pip install -e "\.\[ray\]"'):
        make_executor("ray")
    code = main(["run", "--executor", "ray", "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 2 and 'pip install -e ".[ray]"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before writing anything


def test_executor_options_that_do_not_fit_are_refused(tmp_path, capsys):
    with pytest.raises(BenchError, match="--address needs --executor ray"):
        make_executor("local", address="auto")
    out = tmp_path / "out"
    assert main(["run", "--executor", "ray", "--workers", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == ("error: --workers applies to the local executor; Ray sizes its own "
                   "workers\n")
    assert not out.exists()


def test_ray_executor_gives_the_local_executors_results(tmp_path, capsys):
    ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install -e ".[ray]"')
    torch.set_num_threads(1)  # the local reference's threads, as in Ray's one-CPU tasks
    config = parse_suite(tiny_suite(optimizers=["adam", "rmsprop"], **EXPERIMENTS))
    local = run_suite(config, tmp_path / "local", "cpu", workers=1, show_progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_suite(config, tmp_path / "ray", "cpu", show_progress=False,
                           executor="ray")
        assert ray.is_initialized()  # a cluster the suite joined is left running
        # a cluster without GPUs cannot train on CUDA: one line, nothing written
        out = tmp_path / "cuda"
        capsys.readouterr()  # Ray's own start-up log
        assert main(["run", "--executor", "ray", "--device", "cuda", "--out", str(out)]) == 2
        assert capsys.readouterr().err == ("error: --device cuda: the Ray cluster has no "
                                           "GPUs; use --device cpu or auto\n")
        assert not out.exists() and ray.is_initialized()
    finally:
        ray.shutdown()
    assert (remote.ran, local.ran) == (12, 12) and not remote.failures, remote.failures
    assert_same_results(tmp_path / "ray", tmp_path / "local")
    _assert_same_experiment_files(tmp_path / "ray", tmp_path / "local")  # in Ray's driver


def test_ray_task_that_raises_fails_its_group_only_and_a_started_ray_is_shut_down(tmp_path):
    ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install -e ".[ray]"')
    assert not ray.is_initialized()
    config = parse_suite(tiny_suite(gans=["gan", "wgan-clip"]))  # 2 groups of 2 seeds
    out = tmp_path / "out"
    broken = next(g for g in plan_groups(expand(config), config.group_size)
                  if g[0].gan == "wgan-clip")
    # a folder where the group's checkpoint goes: its first save raises in the Ray worker
    checkpoint_path(out, broken).mkdir(parents=True)
    outcome = run_suite(config, out, "cpu", show_progress=False, executor="ray")
    assert not ray.is_initialized()  # the instance it started is shut down
    (failure,) = outcome.failures
    assert failure.startswith("ring8/wgan-clip/adam seeds 0,1:\n")
    assert "IsADirectoryError" in failure
    assert outcome.ran == 2  # the other group trained and was stored
    assert ResultsStore(out).finished_run_ids() == {
        s.run_id for s in expand(config)} - {s.run_id for s in broken}


def test_side_experiments_beside_the_pool_write_what_they_write_after_the_groups(
        tmp_path, monkeypatch):
    config = parse_suite(tiny_suite(gans=["gan", "wgan-gp"], **EXPERIMENTS))  # 2 groups
    pooled = []
    pool = LocalExecutor._run_in_pool

    def recorded(self, tasks, events):
        pooled.extend(type(task) for task in tasks)
        return pool(self, tasks, events)

    monkeypatch.setattr(LocalExecutor, "_run_in_pool", recorded)
    in_sequence = run_suite(config, tmp_path / "sequence", "cpu", workers=1,
                            show_progress=False)
    assert not pooled  # one worker: the groups, then the experiments, in this process
    beside = run_suite(config, tmp_path / "pool", "cpu", workers=2, show_progress=False)
    assert pooled == [GroupTask] * 2 + [ExperimentTask] * 3  # the pool's last tasks
    assert not in_sequence.failures and not beside.failures
    assert_same_results(tmp_path / "pool", tmp_path / "sequence")
    _assert_same_experiment_files(tmp_path / "pool", tmp_path / "sequence")


def test_a_failing_side_experiment_is_a_failure_and_a_resume_runs_it(tmp_path, monkeypatch):
    config = parse_suite(tiny_suite(gans=["gan"], seeds=1, **EXPERIMENTS))
    monkeypatch.setattr(runner, "SIDE_EXPERIMENTS", tuple(
        replace(e, run=_planted_failure) if e.name == "parallel_lines" else e
        for e in runner.SIDE_EXPERIMENTS))
    out = tmp_path / "out"
    outcome = run_suite(config, out, "cpu", workers=1, show_progress=False)
    (failure,) = outcome.failures
    assert failure.startswith("side experiment parallel_lines:\n")
    assert "RuntimeError: planted failure" in failure
    assert outcome.ran == 1  # the group is stored, and the other experiments ran
    assert {p.name for p in (out / EXPERIMENTS_DIR).iterdir()} == {
        GAUSSIANS_CURVES_FILE, GAUSSIANS_GRADIENTS_FILE}
    assert (out / DIAGNOSTICS_DIR / GRADIENT_FILE).is_file()
    monkeypatch.undo()
    again = run_suite(config, out, "cpu", workers=1, show_progress=False)
    assert (again.ran, again.skipped, again.failures) == (0, 1, [])
    assert len(list((out / EXPERIMENTS_DIR).iterdir())) == 4


def _planted_failure(out_dir, device, spec) -> bool:
    raise RuntimeError("planted failure")
