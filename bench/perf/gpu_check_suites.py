"""The suites ``scripts/gpu-check.sh`` runs, derived from a built-in suite: a slice of its axes,
or the suite at toy sizes for the CPU dry run. ``run`` validates what is derived."""

from typing import Any

from bench.config.suite import read_suite
from bench.core.errors import BenchError
from bench.core.validators import mapping

AXES = ("datasets", "gans", "optimizers")
"""Suite axes a slice may restrict (``--keep``)."""


def suite_mapping(suite: str) -> dict:
    """A built-in suite's YAML mapping by name, or a suite file's, read as ``run`` reads it."""
    raw, source = read_suite(suite)
    return mapping(raw, source)


def derive_suite(suite: str, keep: dict[str, list[str]], sets: dict[str, Any],
                 name: str | None = None) -> dict:
    """``suite`` with its axes restricted to ``keep`` and dotted keys set to ``sets``
    (``model.width``: the ``width`` of ``model:``); ``run`` validates the result."""
    raw = suite_mapping(suite)
    for axis, values in keep.items():
        if axis not in AXES:
            raise BenchError(f"--keep {axis}: only {', '.join(AXES)} can be restricted")
        present = [v if isinstance(v, str) else v.get("name") for v in raw.get(axis, [])]
        missing = [v for v in values if v not in present]
        if missing:
            raise BenchError(f"--keep {axis}: {', '.join(missing)} not in suite {suite!r} "
                             f"(it has {', '.join(map(str, present))})")
        raw[axis] = [v for v, label in zip(raw[axis], present, strict=True) if label in values]
    for key, value in sets.items():
        *parents, leaf = key.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise BenchError(f"--set {key}: {part!r} is not a mapping in suite {suite!r}")
        node[leaf] = value
    if name is not None:
        raw["name"] = name
    return raw
