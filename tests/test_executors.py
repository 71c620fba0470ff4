"""Executors: choosing one, Ray's absence explained, and the same results whichever ran."""

import sys

import pytest
import torch

from bench.checkpoint import checkpoint_path
from bench.cli import main
from bench.errors import BenchError
from bench.executors import make_executor
from bench.runner import plan_groups, run_suite
from bench.store import ResultsStore
from bench.suite import expand, parse_suite
from tests.conftest import tiny_suite
from tests.same_results import assert_same_results

SUITE = tiny_suite(optimizers=["adam", "rmsprop"])  # 6 groups of 2 seeds


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
    config = parse_suite(SUITE)
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
