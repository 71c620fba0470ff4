"""The suite-folder lock: one driver per folder, released however its holder dies."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.cli import main
from bench.config.suite import parse_suite
from bench.core.errors import BenchError
from bench.orchestration.runner import run_suite
from bench.storage.lock import SuiteLock
from tests.conftest import tiny_suite

REPO = Path(__file__).resolve().parent.parent
HOLD = ("import sys, time; from bench.storage.lock import SuiteLock; "
        "SuiteLock(sys.argv[1]).__enter__(); "
        "print('locked', flush=True); time.sleep(120)")


def test_second_driver_on_a_locked_folder_is_refused_naming_the_holder(tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite()))
    out = tmp_path / "out"
    with SuiteLock(out):
        code = main(["run", "--suite", str(suite), "--out", str(out), "--device", "cpu",
                     "--no-progress"])
    assert code == 2
    assert f"in use by another run (pid {os.getpid()})" in capsys.readouterr().err
    assert not (out / "suite.yaml").exists()  # refused before writing anything


def test_lock_dies_with_its_process(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BenchError, match=f"pid {holder.pid}"), SuiteLock(out):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with SuiteLock(out):  # no stale lock: the kernel dropped it with the process
        assert (out / ".lock").read_text().strip() == str(os.getpid())


def test_suites_in_different_folders_do_not_interfere(tmp_path):
    config = parse_suite(tiny_suite(gans=["gan"], seeds=1))
    with SuiteLock(tmp_path / "a"):
        outcome = run_suite(config, tmp_path / "b", "cpu", workers=1, show_progress=False)
    assert outcome.ran == 1 and not outcome.failures
