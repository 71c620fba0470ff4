"""The layers hold: code that only reads results never loads the training stack.

Imported in a fresh interpreter, since this test session has long since loaded the trainer.
"""

import json
import subprocess
import sys

READERS = ("bench.store", "bench.report.build", "bench.report.summary",
           "bench.report.tensorboard", "bench.analysis.section", "bench.analysis.suite_data",
           "bench.analysis.study", "bench.diagnostics.plots", "bench.experiments.plots",
           "bench.gate")
"""Store, report, analysis, diagnostics plots and the CI gate: they read results folders."""

TRAINING = ("bench.trainer", "bench.workload", "bench.accel", "bench.executors", "bench.runner",
            "bench.diagnostics.critic_experiment", "bench.experiments.adversary",
            "bench.experiments.parallel_lines", "bench.experiments.two_gaussians",
            "bench.experiments.random_architectures")
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


SPEC_LAYER = ("bench.specs", "bench.hyperparameters", "bench.results", "bench.validators",
              "gan_zoo.recipes")
"""The lowest layer of the configuration: plain values, no torch, no registries."""


def test_specs_load_no_torch_no_registries_and_no_suite_parsing():
    loaded = _loaded_by(SPEC_LAYER)
    heavy = ("torch", "yaml", "bench.suite", "bench.data", "bench.metrics", "gan_zoo.registry",
             "gan_zoo.architectures")
    assert sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in heavy)) == []


def test_the_model_zoo_does_not_depend_on_the_harness():
    loaded = _loaded_by(("gan_zoo.recipes", "gan_zoo.registry", "gan_zoo.losses",
                         "gan_zoo.constraints", "gan_zoo.architectures.dcgan",
                         "gan_zoo.architectures.mlp"))
    assert sorted(m for m in loaded if m == "bench" or m.startswith("bench.")) == []


def test_the_metric_registry_does_not_import_the_suite():
    """No cycle: the suite parser reads the registry, the registry only the specs."""
    assert "bench.suite" not in _loaded_by(("bench.metrics.registry",))


def test_the_trainer_imports_no_diagnostics():
    loaded = _loaded_by(("bench.trainer",))
    side_runs = ("bench.diagnostics", "bench.experiments")
    assert sorted(m for m in loaded if m.startswith(side_runs)) == []
