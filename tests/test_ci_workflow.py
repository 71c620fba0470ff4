"""docs/ci/github-actions.yml's `run:` steps, in order, in bash, on a tiny suite: a pull request
whose base has no cached baseline (trained from the base commit, then a pass), and a rerun
that restores a baseline the candidate is worse than (compare fails the job; the summary,
which feeds the comment, is still written); and a job that stops before the gate judges.

The test reads the workflow as GitHub would, narrowly: steps that use an action (`uses:`:
checkout, cache, upload, comment) are GitHub's and skipped; a step's `if:` is evaluated for
the few forms the workflow uses, and any other form fails the test; the install needs the
network and is skipped by the workflow's own GANBENCH_OFFLINE guard. The suite, and the
values GitHub computes with `${{ }}`, come in through the workflow's environment variables;
no command is rewritten. The repository is a copy of this one's code, committed in a temporary
git repository: a base commit and a pull request's commit on top.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bench.config.suite import parse_suite
from bench.gate.compare import fewest_seeds
from bench.storage.run_files import load_provenance
from tests.conftest import tiny_suite
from tests.test_gate import _edit_final

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((REPO / "docs/ci/github-actions.yml").read_text())
(JOB,) = WORKFLOW["jobs"].values()

SUITE = tiny_suite(name="tiny-gate", gans=["wgan-gp"], seeds=4, gates={
    "metrics": {"w1": {"margin": 0.1, "relative": True}},
    "min_throughput_ratio": 0.01,  # seconds-long runs on a shared machine time its load
})
"""One cell, one gated metric: 4 seeds are the fewest with which this gate can fire."""

COMPUTED = {"GANBENCH_BASE_SHA"}
"""The workflow's variables that GitHub computes with ${{ }}: the test gives their values."""


@dataclass
class Step:
    name: str
    ran: bool
    returncode: int = 0
    output: str = ""


def _condition_holds(condition: str | None, failed: bool, context: dict[str, str]) -> bool:
    """GitHub's `if:` for the forms the workflow uses: terms joined by &&, each `always()` or
    `NAME == 'value'` / `NAME != 'value'` (NAME: env.X or github.event_name); without
    `always()` a step runs only while no earlier step failed (GitHub's implied success())."""
    terms = [term.strip() for term in (condition or "").split("&&") if term.strip()]
    holds = "always()" in terms or not failed
    for term in terms:
        if term == "always()":
            continue
        match = re.fullmatch(r"([\w.]+) (==|!=) '([^']*)'", term)
        assert match, f"the workflow test cannot evaluate `if: {condition}`; extend it"
        name, operator, value = match.groups()
        holds &= (context.get(name, "") == value) == (operator == "==")
    return holds


def run_steps(workspace: Path, variables: dict[str, str]) -> list[Step]:
    """Each `run:` step as GitHub's `shell: bash` runs it (bash --noprofile --norc -eo
    pipefail FILE), with the workflow's and the job's env and ``variables`` over them."""
    assert WORKFLOW["defaults"]["run"]["shell"] == "bash"
    declared = {**WORKFLOW["env"], **JOB["env"]}
    assert {k for k, v in declared.items() if "${{" in str(v)} == COMPUTED
    env = {**os.environ, **{k: str(v) for k, v in declared.items()}, **variables}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    context = {f"env.{k}": v for k, v in env.items()} | {
        "github.event_name": env["GITHUB_EVENT_NAME"]}
    steps, failed = [], False
    for index, step in enumerate(JOB["steps"]):
        if "uses" in step:
            continue
        assert set(step) <= {"name", "id", "if", "run"}, step  # nothing else is emulated
        assert "${{" not in step["run"]  # GitHub would splice it into the script
        if not _condition_holds(step.get("if"), failed, context):
            steps.append(Step(step["name"], ran=False))
            continue
        script = workspace.parent / f"step{index}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=workspace, env=env, capture_output=True, text=True)
        steps.append(Step(step["name"], True, done.returncode, done.stdout + done.stderr))
        failed |= done.returncode != 0
    return steps


def _git(workspace: Path, *args: str) -> str:
    identity = ["-c", "user.name=ci-test", "-c", "user.email=ci@test", "-c",
                "commit.gpgsign=false"]
    return subprocess.run(["git", *identity, *args], cwd=workspace, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def workspace(tmp_path) -> tuple[Path, str, str]:
    """A repository with this project's code and the tiny suite (the base commit) and a pull
    request's commit on top: (checkout, base sha, head sha)."""
    root = tmp_path / "workspace"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("bench", "gan_zoo"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    shutil.copy(REPO / "run_bench.py", root)
    (root / "tiny-gate.yaml").write_text(yaml.safe_dump(SUITE))
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "base")
    base = _git(root, "rev-parse", "HEAD")
    (root / "CHANGE.md").write_text("the pull request\n")
    _git(root, "add", "CHANGE.md")
    _git(root, "commit", "-q", "-m", "pull request")
    return root, base, _git(root, "rev-parse", "HEAD")


def _ran(steps: list[Step]) -> list[str]:
    return [s.name for s in steps if s.ran]


def _log(steps: list[Step]) -> str:
    return "\n".join(f"--- {s.name}: {s.returncode}\n{s.output}" for s in steps if s.ran)


def test_the_suite_can_fire_its_gate():
    assert fewest_seeds(parse_suite(SUITE)) == SUITE["seeds"]


def test_a_push_to_the_default_branch_only_trains_the_baseline():
    context = {"env.GANBENCH_OFFLINE": "true", "github.event_name": "push"}
    ran = [s["name"] for s in JOB["steps"]
           if "run" in s and _condition_holds(s.get("if"), False, context)]
    assert ran == ["Train the baseline from the base commit (none cached)"]


def _pull_request(root: Path, base: str, suite: str = "tiny-gate.yaml") -> dict[str, str]:
    """The variables of a pull request's job against ``base``, offline."""
    return {"GANBENCH_SUITE": suite, "GANBENCH_OFFLINE": "true", "GANBENCH_BASE_SHA": base,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_STEP_SUMMARY": str(root.parent / "summary.md")}


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@needs_git
def test_the_workflows_steps_gate_a_pull_request(workspace):
    root, base, head = workspace
    variables = _pull_request(root, base)
    summary = Path(variables["GITHUB_STEP_SUMMARY"])
    out = root / WORKFLOW["env"]["GANBENCH_DIR"]

    # no cached baseline: trained from the base commit's own checkout, then a pass
    steps = run_steps(root, variables)
    assert all(s.returncode == 0 for s in steps), _log(steps)
    assert _ran(steps) == [
        "Train the baseline from the base commit (none cached)", "Train the candidate",
        "Compare (exit 1 on a regression fails the job)", "Job summary"]
    assert load_provenance(next((out / "baseline/runs").iterdir()))["git_commit"] == base
    assert load_provenance(next((out / "candidate/runs").iterdir()))["git_commit"] == head
    assert (out / "candidate/report.md").is_file()
    gate = (out / "gate.md").read_text()
    assert gate.startswith("### ganbench gate: PASS") and "REGRESSION" not in gate
    assert "PASS" in (out / "gate.txt").read_text()  # the table, for the artifact
    assert summary.read_text() == gate

    # a rerun that restores a baseline ten times better than the code now does
    restored = root.parent / "restored"
    shutil.copytree(out / "baseline", restored)
    _edit_final(restored, "ring8__wgan-gp__adam", "w1", lambda seed, value: value / 10)
    shutil.rmtree(out)
    out.mkdir()
    shutil.move(restored, out / "baseline")
    summary.unlink()
    steps = run_steps(root, variables)
    by_name = {s.name: s for s in steps}
    baseline = by_name["Train the baseline from the base commit (none cached)"]
    assert "restored from the cache" in baseline.output, _log(steps)
    assert by_name["Compare (exit 1 on a regression fails the job)"].returncode == 1, _log(steps)
    assert by_name["Job summary"].ran and by_name["Job summary"].returncode == 0, _log(steps)
    gate = (out / "gate.md").read_text()
    first_row = gate.splitlines()[gate.splitlines().index("|---|---|---|---|---|---|---|") + 1]
    assert gate.startswith("### ganbench gate: FAIL") and "**REGRESSION**" in first_row
    assert "| w1 |" in first_row and summary.read_text() == gate


@needs_git
def test_a_job_that_stops_before_the_verdict_still_says_so(workspace):
    root, base, _ = workspace
    variables = _pull_request(root, base, suite="no-such-suite.yaml")
    steps = run_steps(root, variables)
    baseline, summary = (s for s in steps if s.ran)
    assert (baseline.name, summary.name) == (
        "Train the baseline from the base commit (none cached)", "Job summary"), _log(steps)
    assert baseline.returncode == 2 and "error: " in baseline.output
    gate = (root / WORKFLOW["env"]["GANBENCH_DIR"] / "gate.md").read_text()
    assert gate.startswith("### ganbench gate: no verdict")
    assert Path(variables["GITHUB_STEP_SUMMARY"]).read_text() == gate
