"""The regression gate for the Python API and the command line's ``compare``: the gate's result
as an object, its checks as a DataFrame, and its table, Markdown and JSON."""

from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bench.api.stages import stage_printer
from bench.core.output_paths import check_file_to_write

if TYPE_CHECKING:
    import pandas as pd

    from bench.gate.compare import GateCheck, GateResult


@dataclass(frozen=True)
class Comparison:
    """A candidate results folder judged against a baseline by the suite's ``gates:``."""

    result: "GateResult"
    """The gate's own result: the suite, its gates, both sides and every check."""

    @property
    def passed(self) -> bool:
        return not self.result.regressions

    @property
    def regressions(self) -> "list[GateCheck]":
        return self.result.regressions

    @cached_property
    def checks(self) -> "pd.DataFrame":
        """One row per check, in the table's order: the cell, metric, kind, both sides with
        their intervals, the worsening, the Holm p-value and the verdict."""
        import pandas as pd

        return pd.DataFrame([asdict(check) for check in self.result.checks])

    def table(self) -> str:
        from bench.gate.output import format_table

        return format_table(self.result)

    def markdown(self) -> str:
        """The verdicts for a pull-request comment, regressions first."""
        from bench.gate.output import format_markdown

        return format_markdown(self.result)

    def to_json(self) -> str:
        """Stable JSON for tools: sorted keys, no timestamps."""
        from bench.gate.output import to_json

        return to_json(self.result)


def compare(baseline: str | Path, candidate: str | Path, *, markdown: str | Path | None = None,
            progress: bool = True) -> Comparison:
    """Judge the results folder ``candidate`` against ``baseline`` (both of one suite, with
    a ``gates:`` section). ``markdown``: a file to write the verdicts to as Markdown, checked
    before any work and written whenever the gate judges. ``progress``: stage lines on
    stderr."""
    from bench.core.atomic import write_text_atomic
    from bench.gate.compare import run_gate

    if markdown is not None:
        check_file_to_write(Path(markdown), "--markdown")
    comparison = Comparison(run_gate(Path(baseline), Path(candidate),
                                     stage_printer("compare", progress)))
    if markdown is not None:  # written on a regression too: the comment reports it
        write_text_atomic(Path(markdown), comparison.markdown() + "\n")
    return comparison
