"""The layers hold: every import points down the declared order (``bench.LAYERS``), no module
imports itself back through others, and code that only reads results never loads training.

The import graph is read from the source (every ``import``, also inside functions and under
``TYPE_CHECKING``); what a module loads at run time is checked in a fresh interpreter, since
this test session has long since loaded the trainer.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import LAYERS

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, tuple[str, bool]]:
    """Every module of bench and gan_zoo: its source, and whether it is a package."""
    return {_module_name(p): (p.read_text(), p.name == "__init__.py")
            for top in ("bench", "gan_zoo") for p in sorted((ROOT / top).rglob("*.py"))}


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Each module's imports of the other modules in ``sources`` (``from pkg import mod``
    counts as an import of ``pkg.mod``)."""

    def known(name: str) -> str | None:
        while name and name not in sources:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, (text, is_package) in sources.items():
        found = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found.update(known(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.split(".")[: len(module.split(".")) - node.level
                                                    + is_package]
                    base = ".".join([*package, base] if base else package)
                found.update(known(f"{base}.{alias.name}") for alias in node.names)
        graph[module] = {m for m in found if m and m != module}
    return graph


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of the layer ``module`` belongs to (a KeyError if none)."""
    for index, layer in enumerate(LAYERS):
        if module == layer or module.startswith(f"{layer}."):
            return index
    raise KeyError(f"{module} is in no layer of bench.LAYERS")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                  if m != "bench" and layer_of(t) > layer_of(m))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = import_graph(_sources())


def test_every_module_is_in_a_layer():
    unplaced = []
    for module in GRAPH:
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert unplaced in ([], ["bench"])  # the package root only declares the layers


def test_no_import_points_up():
    assert upward_imports(GRAPH) == []


def test_no_import_cycles():
    assert cycles(GRAPH) == []


def test_the_checks_see_a_planted_upward_import_and_cycle():
    planted = {
        "bench.core.specs": ("from bench.training import trainer\n", False),
        "bench.training.trainer": ("import bench.training.workload\n", False),
        "bench.training.workload": ("def f():\n    from .trainer import x\n", False),
    }
    graph = import_graph(planted)
    assert upward_imports(graph) == ["bench.core.specs -> bench.training.trainer"]
    assert cycles(graph) == [["bench.training.trainer", "bench.training.workload"]]
    with pytest.raises(KeyError, match="no layer"):
        layer_of("bench.nowhere")


READERS = ("bench.storage.store", "bench.report.build", "bench.report.summary",
           "bench.report.tensorboard", "bench.report.claims_section",
           "bench.analysis.suite_data", "bench.analysis.study", "bench.report.critic_plots",
           "bench.report.experiment_plots", "bench.gate.compare")
"""Store, report, analysis and the CI gate: they read results folders."""

TRAINING = ("bench.training", "bench.experiments", "bench.orchestration")
"""Packages that train; none may be loaded by a reader, even through a package's
``__init__``."""

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_after(script: str, *args: str) -> set[str]:
    """Every module a fresh interpreter has loaded when ``script`` (run with ``args``) prints
    ``sorted(sys.modules)`` as JSON."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, check=True)
    return set(json.loads(done.stdout))


def _loaded_by(modules: tuple[str, ...]) -> set[str]:
    """Every module a fresh interpreter has loaded after importing ``modules``."""
    return _loaded_after(_PROBE, *modules)


def _within(loaded: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == p or m.startswith(f"{p}.") for p in packages))


def test_readers_import_no_training_code():
    assert _within(_loaded_by(READERS), TRAINING) == []


def test_probe_sees_training_imports():
    """The check can fail: the runner does pull the trainer in."""
    assert "bench.training.trainer" in _loaded_by(("bench.orchestration.runner",))


SPEC_LAYER = ("bench.core.specs", "bench.core.hyperparameters", "bench.core.results",
              "bench.core.validators", "gan_zoo.recipes")
"""The lowest layer of the configuration: plain values, no torch, no registries."""


def test_specs_load_no_torch_no_registries_and_no_suite_parsing():
    loaded = _loaded_by(SPEC_LAYER)
    heavy = ("torch", "yaml", "bench.config.suite", "bench.data", "bench.metrics",
             "gan_zoo.registry", "gan_zoo.architectures")
    assert _within(loaded, heavy) == []


HEAVY = ("torch", "ot", "scipy", "statsmodels", "pandas")
"""What checking a suite loads none of: torch and POT (seconds), the statistics and tables."""

_CHECK_SUITES = """
import json, sys
from bench.config.suite import builtin_suites, load_suite
from bench.core.errors import BenchError
for name in builtin_suites():
    load_suite(name)
try:
    load_suite(sys.argv[1])
except BenchError:
    print(json.dumps(sorted(sys.modules)))
"""

_REFUSE_A_RUN = """
import json, sys
from bench.cli import main
assert main(sys.argv[1:]) == 2
print(json.dumps(sorted(sys.modules)))
"""

BAD_SUITE = ("name: bad\ndatasets: [ring8]\ngans: [nope]\noptimizers: [adam]\nseeds: 2\n"
             "budget: {generator_steps: 5}\n")


def test_checking_and_refusing_suites_loads_no_torch(tmp_path):
    """Every built-in suite parsed and a bad one refused, then ``run`` refusing it as a user
    meets it (the command line also opens the results store, which reads tables: pandas)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_SUITE)
    assert _within(_loaded_after(_CHECK_SUITES, str(bad)), HEAVY) == []
    refused = _loaded_after(_REFUSE_A_RUN, "run", "--suite", str(bad), "--out",
                            str(tmp_path / "out"))
    assert "bench.config.suite" in refused
    assert _within(refused, ("torch", "ot", "scipy", "statsmodels")) == []
    assert not (tmp_path / "out").exists()


def test_probe_sees_torch_where_a_run_trains():
    """The check can fail: the metric functions do load torch."""
    assert "torch" in _loaded_by(("bench.metrics.registry",))
