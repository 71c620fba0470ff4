"""Executors: choosing one, Ray's absence explained, and the same results whichever ran."""

import sys

import pytest
import torch

from bench.cli import main
from bench.errors import BenchError
from bench.executors import make_executor
from bench.runner import run_suite
from bench.suite import parse_suite
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


def test_executor_options_that_do_not_fit_are_refused():
    with pytest.raises(BenchError, match="--address needs --executor ray"):
        make_executor("local", address="auto")


def test_ray_executor_gives_the_local_executors_results(tmp_path):
    ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install -e ".[ray]"')
    torch.set_num_threads(1)  # the local reference's threads, as in Ray's one-CPU tasks
    config = parse_suite(SUITE)
    local = run_suite(config, tmp_path / "local", "cpu", workers=1, show_progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_suite(config, tmp_path / "ray", "cpu", show_progress=False,
                           executor="ray")
    finally:
        ray.shutdown()
    assert (remote.ran, local.ran) == (12, 12) and not remote.failures, remote.failures
    assert_same_results(tmp_path / "ray", tmp_path / "local")
