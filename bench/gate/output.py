"""The gate's verdicts as a table for people and as stable JSON for tools."""

import json
import math
from dataclasses import asdict

from bench.core.specs import TOY_ARCH
from bench.gate.compare import REGRESSION, GateCheck, GateResult
from bench.gate.load import Side, machine


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"


def _value(check: GateCheck, side: str) -> str:
    value = getattr(check, side)
    if check.kind == "divergence":  # a rate over n seeds: show the counts
        n = getattr(check, f"n_{side}")
        return f"{round(value * n)}/{n} diverged"
    low, high = getattr(check, f"{side}_ci")
    if math.isnan(low):
        return _number(value)
    return f"{_number(value)} [{_number(low)}, {_number(high)}]"


def _change(check: GateCheck) -> str:
    if math.isnan(check.baseline) or math.isnan(check.candidate):
        return "n/a"
    delta = check.candidate - check.baseline
    if check.kind == "divergence" or check.baseline == 0:
        return f"{delta:+.3g}"
    return f"{delta:+.3g} ({delta / abs(check.baseline):+.0%})"


def _cell_name(check: GateCheck) -> str:
    """dataset[/arch]/gan/optimizer: the architecture where it is an image architecture."""
    arch = "" if check.arch == TOY_ARCH else f"/{check.arch}"
    return f"{check.dataset}{arch}/{check.gan}/{check.optimizer}"


def format_table(result: GateResult) -> str:
    """The human-readable verdicts, one line per check, and a one-line conclusion."""
    header = ("cell", "metric", "baseline", "candidate", "change", "p (Holm)", "verdict")
    rows = []
    for c in result.checks:
        verdict = c.verdict.upper() if c.verdict == REGRESSION else c.verdict
        rows.append((
            _cell_name(c), c.metric, _value(c, "baseline"),
            _value(c, "candidate"), _change(c),
            "" if math.isnan(c.p_value) else f"{c.p_value:.3g}",
            f"{verdict} ({c.note})" if c.note else verdict,
        ))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    gates = result.gates
    n_bad = len(result.regressions)
    lines.append(
        f"{n_bad} regression(s) in {len(result.checks)} checks of suite "
        f"'{result.suite}' (alpha {gates.alpha:g}, Holm over all seed tests; throughput "
        f"ratio < {gates.min_throughput_ratio:g} fails): {'FAIL' if n_bad else 'PASS'}"
    )
    return "\n".join(lines)


def _jsonable(value):
    """NaN is not JSON: it becomes null; tuples become lists."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _side_json(side: Side) -> dict:
    return {
        "path": str(side.path),
        "seeds": list(side.config.seeds),
        "git_commit": side.provenance.get("git_commit"),
        "machine": machine(side.provenance),
    }


def to_json(result: GateResult) -> str:
    """Stable JSON for tools: sorted keys, checks in table order, no timestamps."""
    doc = {
        "suite": result.suite,
        "verdict": "fail" if result.regressions else "pass",
        "regressions": len(result.regressions),
        "gates": result.gates.to_dict(),
        "baseline": _side_json(result.baseline),
        "candidate": _side_json(result.candidate),
        "checks": [asdict(c) for c in result.checks],
    }
    return json.dumps(_jsonable(doc), indent=2, sort_keys=True, allow_nan=False)
