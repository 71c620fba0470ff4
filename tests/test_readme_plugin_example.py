"""README's plugin example runs as copied: the Python block whose first line is
``# my_gans.py`` and the YAML block whose first line is ``# my-suite.yaml``, written as they
are into a folder, and the suite run there from the command line to a report. If README
changes, this runs the new text."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCED = re.compile(r"^```\w*\n(.*?)^```", re.M | re.S)


def readme_block(first_line: str) -> str:
    """The one fenced block of README.md whose first line is ``first_line``."""
    blocks = FENCED.findall((ROOT / "README.md").read_text())
    (block,) = [b for b in blocks if b.splitlines()[0] == first_line]
    return block


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_bench.py"), *args], cwd=folder,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("example")
    (folder / "my_gans.py").write_text(readme_block("# my_gans.py"))
    (folder / "my-suite.yaml").write_text(readme_block("# my-suite.yaml"))
    done = _cli(folder, "run", "--suite", "my-suite.yaml", "--out", "results/my-suite",
                "--device", "cpu", "--no-progress")
    assert done.returncode == 0, done.stderr
    return folder / "results" / "my-suite"


def test_the_plugins_gan_and_optimizer_train_beside_the_builtins(example):
    summary = pd.read_csv(example / "summary.csv")
    cells = summary.groupby(["gan", "optimizer"])["status"].agg(list)
    assert set(cells.index) == {(gan, optimizer) for gan in ("gan", "lsgan")
                                for optimizer in ("adam", "adamax")}
    assert all(statuses == ["finished"] * 5 for statuses in cells)
    table = pd.read_csv(example / "tables" / "cells.csv")
    assert {"lsgan", "gan"} <= set(table["gan"]) and {"adamax", "adam"} <= set(table["optimizer"])
    report = (example / "report.md").read_text()
    assert "lsgan" in report and "adamax" in report
    assert "Trained one run per group" not in report  # Adamax is declared element-wise


def test_the_claims_stay_about_the_papers_gans(example):
    claims = (example / "claims.csv").read_text()
    assert "lsgan" not in claims and "adamax" not in claims


def test_the_results_folder_loads_its_plugin_again_for_report_and_the_gate(example):
    folder, results = example.parent.parent, str(example.relative_to(example.parent.parent))
    done = _cli(folder, "report", results)
    assert done.returncode == 0, done.stderr
    gate = _cli(folder, "compare", results, results, "--json")
    assert gate.returncode == 0, gate.stderr
    assert "lsgan" in gate.stdout and "adamax" in gate.stdout  # the plugin's cells are gated
