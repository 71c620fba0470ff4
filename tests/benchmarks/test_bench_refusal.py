"""What a refusal costs: a suite with a bad field, checked by a fresh interpreter as a user
runs it. ``extra_info`` holds its CPU seconds (user + system, the child's own).

The goal is 2 s of CPU (issue 32); measured on this project's 2-core VM (a test run beside
it): 4.6 s before the training stack's imports moved after the check and POT's import into
the W1 call, about 2.6 s since. What is left is the suite parser's own imports: torch
(about 1.2 s, the metric and dataset registries need it), scipy.stats and statsmodels
(0.5 s, the claims' thresholds), so 2 s needs the torch-free suite modules of the layout
issue."""

import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.benchmark(group="refusal")
def test_a_refused_suite_costs_little_cpu(benchmark, tmp_path):
    suite = tmp_path / "bad.yaml"
    suite.write_text("name: bad\ndatasets: [ring8]\ngans: [nope]\noptimizers: [adam]\n"
                     "seeds: 2\nbudget: {generator_steps: 5}\n")
    out = tmp_path / "out"

    def refuse() -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, str(ROOT / "run_bench.py"), "run", "--suite",
                               str(suite), "--out", str(out)], capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert done.returncode == 2 and done.stderr.startswith("error:"), done.stderr
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    seconds = benchmark.pedantic(refuse, rounds=1, iterations=1)
    benchmark.extra_info["cpu_seconds"] = seconds
    assert not out.exists()  # nothing written
