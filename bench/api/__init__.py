"""The Python API: what the command line does, for notebooks and scripts, on the same code (the
CLI is a thin layer over these functions). ``bench.run``, ``bench.load`` and ``bench.compare``
are these.

    results = bench.run("quick", out="results/quick", device="cpu")
    results.summary, results.claims, results.tables["cells"]   # pandas DataFrames

Importing it loads nothing heavy: each function imports what it needs once its input is
checked.
"""

from bench.api.comparing import Comparison, compare
from bench.api.options import ReportOptions, RunOptions
from bench.api.results import SuiteResults, load
from bench.api.running import report, resume, run

__all__ = ["Comparison", "ReportOptions", "RunOptions", "SuiteResults", "compare", "load",
           "report", "resume", "run"]
