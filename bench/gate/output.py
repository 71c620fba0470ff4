"""The gate's verdicts as a table for people, as Markdown for a pull-request comment and as
stable JSON for tools."""

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


HEADER = ("cell", "metric", "baseline", "candidate", "change", "p (Holm)", "verdict")
"""The columns of the table and of the Markdown."""


def _row(check: GateCheck) -> tuple[str, ...]:
    verdict = check.verdict.upper() if check.verdict == REGRESSION else check.verdict
    return (
        _cell_name(check), check.metric, _value(check, "baseline"), _value(check, "candidate"),
        _change(check), "" if math.isnan(check.p_value) else f"{check.p_value:.3g}",
        f"{verdict} ({check.note})" if check.note else verdict,
    )


def _conclusion(result: GateResult) -> str:
    gates, n_bad = result.gates, len(result.regressions)
    return (
        f"{n_bad} regression(s) in {len(result.checks)} checks of suite "
        f"'{result.suite}' (alpha {gates.alpha:g}, Holm over all seed tests; throughput "
        f"ratio < {gates.min_throughput_ratio:g} fails): {'FAIL' if n_bad else 'PASS'}"
    )


def format_table(result: GateResult) -> str:
    """The human-readable verdicts, one line per check, and a one-line conclusion."""
    rows = [HEADER, *map(_row, result.checks)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join([*lines, _conclusion(result)])


def _commit(side: Side) -> str:
    commit = side.provenance.get("git_commit")
    return f"commit `{commit[:12]}`, " if commit else ""


def _markdown_row(check: GateCheck) -> str:
    cells = [text.replace("|", "\\|") for text in _row(check)]
    if check.verdict == REGRESSION:
        cells[-1] = f"**{cells[-1]}**"
    return "| " + " | ".join(cells) + " |"


def format_markdown(result: GateResult) -> str:
    """The verdicts as Markdown for a pull-request comment: the verdict as its heading, then
    one table with the regressions first (what a reviewer must read is on top), the other
    checks in the table's order."""
    base, cand = result.baseline, result.candidate
    return "\n".join([
        f"### ganbench gate: {'FAIL' if result.regressions else 'PASS'}",
        "",
        _conclusion(result) + ".",
        "",
        f"Baseline: {_commit(base)}{len(base.config.seeds)} seeds; candidate: "
        f"{_commit(cand)}{len(cand.config.seeds)} seeds. Quality: mean [95% CI] over seeds; "
        "throughput: median over runs.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *map(_markdown_row, sorted(result.checks, key=lambda c: c.verdict != REGRESSION)),
    ])


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
