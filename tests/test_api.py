"""The Python API (bench.api; bench.run, bench.load, bench.compare): README's example runs as
written, the command line is a thin layer over it, bad settings are refused as bad flags are,
importing bench stays light, and the `ganbench` command is the same command line."""

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import bench
from bench import api, cli
from bench.core.errors import BenchError
from tests.conftest import tiny_suite

ROOT = Path(__file__).resolve().parent.parent
GATED = tiny_suite(gans=["wgan-gp"], seeds=4, gates={"metrics": {"w1": {"margin": 0.1}}})
"""One cell, one gated metric: 4 + 4 seeds can reach alpha over its 2 tests."""


def readme_api_example() -> str:
    """The first Python block of README's "Python API" section, as written."""
    section = (ROOT / "README.md").read_text().split("\n## Python API\n", 1)[1]
    return section.split("```python\n", 1)[1].split("\n```", 1)[0]


def test_the_readme_example_runs_as_written(tmp_path):
    """In a fresh interpreter, as a notebook runs it (no script file for the workers, which
    start by importing the main module, to run again)."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", readme_api_example()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "results" / "mini"
    assert (out / "report.md").is_file() and str(Path("results/mini/report.md")) in done.stdout
    assert "final_w1" in done.stdout and "verdict" in done.stdout


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> api.SuiteResults:
    out = tmp_path_factory.mktemp("api") / "out"
    return bench.run(GATED, out, device="cpu", workers=1, progress=False)


def test_run_answers_the_report_and_its_tables_as_frames(finished):
    assert finished.report == finished.folder / "report.md" and not finished.failures
    assert len(finished.summary) == 4 and set(finished.summary["status"]) == {"finished"}
    assert finished.summary.equals(pd.read_csv(finished.folder / "summary.csv"))
    assert {"claim", "check", "verdict"} <= set(finished.claims.columns)
    assert {"cells", "divergence"} <= set(finished.tables)
    assert all(isinstance(t, pd.DataFrame) for t in finished.tables.values())


def test_load_gives_the_same_for_a_finished_folder(finished):
    loaded = bench.load(str(finished.folder))
    assert loaded.report == finished.report
    assert loaded.summary.equals(finished.summary) and loaded.claims.equals(finished.claims)
    assert loaded.tables.keys() == finished.tables.keys()


def test_compare_gives_the_gates_result_and_a_frame(finished, tmp_path):
    markdown = tmp_path / "gate.md"
    comparison = bench.compare(finished.folder, finished.folder, markdown=markdown,
                               progress=False)
    assert comparison.passed and comparison.regressions == []
    assert len(comparison.checks) == len(comparison.result.checks) == 3  # w1, divergence, speed
    assert set(comparison.checks["verdict"]) == {"pass"}
    assert json.loads(comparison.to_json())["verdict"] == "pass"
    assert markdown.read_text() == comparison.markdown() + "\n"


def test_the_command_line_calls_the_api(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(api, "run", lambda *args, **kwargs: calls.append((args, kwargs))
                        or api.SuiteResults(tmp_path))
    assert cli.main(["run", "--suite", "ci", "--out", str(tmp_path), "--seeds", "2",
                     "--device", "cpu", "--compile", "off", "--no-report"]) == 0
    (args, kwargs), = calls
    assert args == ("ci", tmp_path)
    assert kwargs == {"seeds": 2, "budget": None, "device": "cpu", "report": False,
                      "compile": "off"}


@pytest.mark.parametrize("settings, says", [
    ({"devcie": "cpu"}, "unknown setting(s) devcie; valid: device,"),
    ({"compile": "yes"}, "compile: got 'yes'; valid: auto, on, off"),
    ({"workers": 0}, "workers: expected an integer >= 1, got 0"),
])
def test_bad_settings_are_refused_before_anything_is_written(settings, says, tmp_path):
    with pytest.raises(BenchError, match=re.escape(says)):
        bench.run(GATED, tmp_path / "out", **settings)
    assert not (tmp_path / "out").exists()


def test_load_refuses_a_folder_with_no_report(tmp_path):
    out = tmp_path / "out"
    bench.run(tiny_suite(gans=["gan"], seeds=1), out, device="cpu", workers=1, progress=False,
              report=False)
    with pytest.raises(BenchError, match="has no report yet; bench.api.report"):
        bench.load(out)
    assert api.report(out, workers=1, progress=False).report == out / "report.md"
    assert len(bench.load(out).summary) == 1


def test_importing_bench_loads_no_api_until_it_is_used():
    probe = ("import sys, bench.core.specs, bench; print('bench.api' in sys.modules); "
             "bench.compare; print('bench.api' in sys.modules, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.split() == ["False", "True", "False"]


def test_ganbench_is_the_same_command_line():
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = target["ganbench"].partition(":")
    assert getattr(__import__(module, fromlist=[function]), function) is cli.main
    installed = [e for e in metadata.entry_points(group="console_scripts", name="ganbench")]
    if installed:  # where `pip install -e .` ran since the command was declared
        assert installed[0].load() is cli.main
    assert "from bench.cli import main" in (ROOT / "run_bench.py").read_text()
