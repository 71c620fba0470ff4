"""The layers hold: code that only reads results never loads the training stack.

Imported in a fresh interpreter, since this test session has long since loaded the trainer.
"""

import json
import subprocess
import sys

READERS = ("bench.store", "bench.report.build", "bench.report.summary",
           "bench.report.tensorboard", "bench.analysis.section", "bench.analysis.suite_data",
           "bench.analysis.study", "bench.diagnostics.plots", "bench.gate")
"""Store, report, analysis, diagnostics plots and the CI gate: they read results folders."""

TRAINING = ("bench.trainer", "bench.workload", "bench.accel", "bench.executors", "bench.runner",
            "bench.diagnostics.critic_experiment")
"""Modules (and their submodules) that train; none may be imported by a reader."""

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by(modules: tuple[str, ...]) -> set[str]:
    """Every module a fresh interpreter has loaded after importing ``modules``."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True,
                          text=True, check=True)
    return set(json.loads(done.stdout))


def _training(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded
                  if any(m == t or m.startswith(f"{t}.") for t in TRAINING))


def test_readers_import_no_training_code():
    assert _training(_loaded_by(READERS)) == []


def test_probe_sees_training_imports():
    """The check can fail: the runner does pull the trainer in."""
    assert "bench.trainer" in _training(_loaded_by(("bench.runner",)))
