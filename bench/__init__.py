"""Benchmark harness: suites, data, metrics, training, results folders, analysis, reports.

The packages are layers; a module imports only from its own layer and the layers below it
(``tests/test_layers.py`` checks every import, with no cycles).
"""

LAYERS = (
    "gan_zoo",              # the model zoo: losses, constraints, architectures, recipes
    "bench.stats",          # statistics on plain values
    "bench.core",           # errors, validators, the specs, the result schema, the environment
    "bench.data",           # datasets declared once, sampled on the device
    "bench.metrics",        # the metric registry and its pieces
    "bench.features",       # feature extractors (Inception, the digits classifier's)
    "bench.config",         # suite YAML -> SuiteConfig -> RunSpecs
    "bench.storage",        # results folders: store, loaders, manifests, rounds, side outputs
    "bench.analysis",       # claims, verdicts, studies, correlations: judged from the store
    "bench.report",         # summary, tables, plots, report.md, TensorBoard
    "bench.gate",           # the CI regression gate (`compare`)
    "bench.training",       # a group's parts, the trainer, optimizers, evaluator, speed-ups
    "bench.experiments",    # the papers' side experiments and the critic diagnostics
    "bench.orchestration",  # runner, executors, --until-decided
    "bench.perf",           # performance measurements
    "bench.api",            # the Python API: run, load, compare
    "bench.cli",            # the command line, a thin layer over the API
)
"""Bottom to top. Readers of results (storage, analysis, report, gate) sit below training, so
they cannot import it."""

API = ("run", "load", "compare")
"""``bench.run``, ``bench.load`` and ``bench.compare``: the Python API's (bench.api)."""


def __getattr__(name: str) -> object:
    # imported on first use: importing a low layer (bench.core.specs) loads none of the API
    if name in API:
        from bench import api

        return getattr(api, name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
