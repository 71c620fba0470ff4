"""A results folder as a notebook reads it: the report's path, and the summary, the claims and
the tables as pandas DataFrames, read from the files the report wrote."""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bench.core.errors import BenchError

if TYPE_CHECKING:
    import pandas as pd

REPORT_FILE = "report.md"


@dataclass(frozen=True)
class SuiteResults:
    """A results folder written by ``run`` (``bench.run``'s answer, or ``bench.load``'s)."""

    folder: Path
    failures: tuple[str, ...] = ()
    """What failed to train in the ``bench.run`` call that answered this (its groups and side
    experiments); ``run_bench.py run --resume`` retries them. ``bench.load`` knows of none."""

    @property
    def report(self) -> Path | None:
        """report.md, or None where no report was built (``report=False``, or nothing ran)."""
        path = self.folder / REPORT_FILE
        return path if path.is_file() else None

    @cached_property
    def summary(self) -> "pd.DataFrame":
        """One row per run: its identity, settings, status and final metrics (summary.csv)."""
        return self._csv("summary.csv")

    @cached_property
    def claims(self) -> "pd.DataFrame":
        """One row per claim, then per check: verdict, evidence, p-value (claims.csv); empty
        for a suite with no claims."""
        import pandas as pd

        path = self._derived("claims.csv")
        return pd.read_csv(path) if path.is_file() else pd.DataFrame()

    @cached_property
    def tables(self) -> "dict[str, pd.DataFrame]":
        """The report's tables by name (tables/NAME.csv: cells, divergence, ...)."""
        import pandas as pd

        folder = self._derived("tables")
        return {path.stem: pd.read_csv(path) for path in sorted(folder.glob("*.csv"))}

    def _csv(self, name: str) -> "pd.DataFrame":
        import pandas as pd

        return pd.read_csv(self._derived(name))

    def _derived(self, name: str) -> Path:
        """A path the report writes, once there is a report."""
        if self.report is None:
            raise _no_report(self.folder)
        return self.folder / name


def _no_report(folder: Path) -> BenchError:
    return BenchError(f"{folder} has no report yet; bench.api.report(folder) or "
                      f"'run_bench.py report {folder}' builds it")


def load(folder: str | Path) -> SuiteResults:
    """A finished results folder, its report built (by ``run``, or ``report`` after
    ``run --no-report``)."""
    from bench.storage.store import ResultsStore

    results = SuiteResults(Path(folder))
    if not results.folder.is_dir():
        raise BenchError(f"no such results folder: {folder}")
    ResultsStore(results.folder).load_suite()  # a folder that is none says so
    if results.report is None:
        raise _no_report(results.folder)
    return results
