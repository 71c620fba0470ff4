"""``run --until-decided``: seeds added round by round, judged at each look's level of a
group-sequential design, without inflating false verdicts; it resumes like any suite."""

import math
import shutil
from dataclasses import replace

import numpy as np
import pytest
import yaml

from bench.analysis.rules import INCONCLUSIVE, REPRODUCED, directional
from bench.cli import main
from bench.config.suite import load_suite, parse_suite
from bench.config.suite_config import with_added_seeds
from bench.core.errors import BenchError
from bench.core.specs import ClaimsSpec
from bench.orchestration import until_decided
from bench.storage.rounds import Check, Design, Rounds, cells_to_extend
from tests.conftest import tiny_suite

A, B = ("ring8", "mlp", "wgan-gp", "adam"), ("ring8", "mlp", "wgan-clip", "adam")


def test_the_design_spends_alpha_over_its_looks():
    design = Design(start_seeds=3, max_seeds=19, seed_step=4)
    assert design.looks() == 5
    assert [design.fraction(k) for k in range(5)] == pytest.approx(
        [3 / 19, 7 / 19, 11 / 19, 15 / 19, 1.0])
    levels = [design.level(k, 0.05) for k in range(5)]
    assert levels == sorted(levels) and levels[0] < 1e-3  # little spent early
    assert 0.03 < levels[-1] < 0.05  # nearly all of alpha at the last look, never more


def test_seeds_go_to_the_cells_of_undecidable_checks_below_the_maximum():
    gan, gp = ("grid25", "mlp", "gan", "adam"), ("grid25", "mlp", "wgan-gp", "adam")
    checks = [Check(INCONCLUSIVE, 8, (A, B)), Check(REPRODUCED, math.nan, (B,)),
              Check(INCONCLUSIVE, math.nan, (gan,)),  # no number of seeds decides it
              Check(INCONCLUSIVE, 21, (gp,))]  # more than the cap
    assert cells_to_extend(checks, {A: 3, B: 3}, 20, INCONCLUSIVE) == sorted([A, B])
    assert cells_to_extend(checks, {A: 20, B: 3}, 20, INCONCLUSIVE) == [B]


def _sequential_false_verdicts(levels, rng: np.random.Generator, design: Design,
                               spec: ClaimsSpec) -> bool:
    """One null experiment of the procedure: identical arms, judged at each look's level by
    the claims' directional rule, seeds added to both cells while undecided."""
    seeds = {A: design.start_seeds, B: design.start_seeds}
    values = {A: list(rng.normal(size=seeds[A])), B: list(rng.normal(size=seeds[B]))}
    for level in levels:
        verdict = directional(values[A], values[B], "lower", replace(spec, alpha=level)).verdict
        if verdict != INCONCLUSIVE:
            return verdict == REPRODUCED
        # the most seeds the planner ever adds: every undecided look gets its round
        cells = cells_to_extend([Check(verdict, design.max_seeds, (A, B))], seeds,
                                design.max_seeds, INCONCLUSIVE)
        if not cells:
            return False
        for cell in cells:
            add = min(design.seed_step, design.max_seeds - seeds[cell])
            values[cell] += list(rng.normal(size=add))
            seeds[cell] += add
    return False


def _null_rate(levels, design: Design, runs: int) -> float:
    rng = np.random.default_rng(7)
    spec = ClaimsSpec()
    return float(np.mean([_sequential_false_verdicts(levels, rng, design, spec)
                          for _ in range(runs)]))


@pytest.mark.parametrize("runs", [pytest.param(400, id="fast"),
                                  pytest.param(6000, id="thorough", marks=pytest.mark.slow)])
def test_under_the_null_the_procedure_keeps_false_claims_within_alpha(runs):
    """Identical arms: the sequential procedure claims 'A better' at most alpha of the time;
    judging every look at a fixed alpha does not."""
    design, alpha = Design(start_seeds=3, max_seeds=19, seed_step=4), 0.05
    spent = [design.level(k, alpha) for k in range(design.looks())]
    sequential = _null_rate(spent, design, runs)
    naive = _null_rate([alpha] * design.looks(), design, runs)
    error = 2.6 * np.sqrt(alpha * (1 - alpha) / runs)  # 99% one-sided Monte-Carlo error
    assert sequential <= alpha + error, sequential
    assert naive > alpha + error, naive  # re-testing at a fixed alpha inflates false claims


def _tiny(tmp_path, seeds: int = 3):
    suite = tiny_suite(gans=["wgan-gp", "wgan-clip"], seeds=seeds,
                       budget={"generator_steps": 4}, model={"width": 8, "depth": 1})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def _undecided_twice(monkeypatch) -> list[float]:
    """Plant the judge: wgan-gp's cell stays undecided (and decidable) until it has 7 seeds,
    so the rounds are known; the levels it was asked to judge at are returned."""
    levels = []

    def judge(root, config, level_of):
        cell = next(c for c in config.cell_keys() if c[2] == "wgan-gp")
        levels.append(level_of((cell,))[0])
        verdict = INCONCLUSIVE if len(config.seeds_of(cell)) < 7 else REPRODUCED
        return {"claim 2": verdict}, [Check(verdict, True, (cell,))]

    monkeypatch.setattr(until_decided, "judge", judge)
    return levels


def test_until_decided_adds_rounds_of_seeds_and_reports_them(tmp_path, monkeypatch):
    levels = _undecided_twice(monkeypatch)
    out = tmp_path / "out"
    args = ["run", "--suite", str(_tiny(tmp_path)), "--out", str(out), "--no-progress",
            "--workers", "1", "--until-decided", "--max-seeds", "9", "--seed-step", "2"]
    assert main(args) == 0
    rounds = Rounds.load(out)
    assert rounds.design == Design(3, 9, 2)
    assert [r.look for r in rounds.rounds] == [0, 1, 2]
    assert [r.level for r in rounds.rounds] == levels
    assert levels == [Design(3, 9, 2).level(k, 0.05) for k in range(3)]
    cell = "ring8 / mlp / wgan-gp / adam"
    assert [r.added for r in rounds.rounds] == [{}, {cell: [3, 4]}, {cell: [5, 6]}]
    config = load_suite(str(out / "suite.yaml"))
    assert config.added_seeds == ((("ring8", "mlp", "wgan-gp", "adam"), (3, 4, 5, 6)),)
    runs = {p.name for p in (out / "runs").iterdir()}
    assert len(runs) == config.n_runs == 2 * 3 + 4
    assert {f"ring8__wgan-gp__adam__s{s}" for s in range(7)} <= runs
    report = (out / "report.md").read_text()
    assert "## Rounds (`run --until-decided`)" in report
    assert f"| 2 | {levels[2]:.3g} | {cell}: 5, 6 | claim 2 reproduced | 0 |" in report
    # a second look at the finished folder trains nothing and takes no new look
    assert main(["run", "--resume", str(out), "--no-progress", "--workers", "1"]) == 0
    assert Rounds.load(out) == rounds
    # its design spent alpha over its looks: a new cap is refused, not silently ignored
    before = sorted(p.name for p in out.rglob("*"))
    assert main(["run", "--resume", str(out), "--no-progress", "--until-decided",
                 "--max-seeds", "12"]) == 2
    assert sorted(p.name for p in out.rglob("*")) == before


def test_a_round_interrupted_before_training_its_seeds_resumes(tmp_path, monkeypatch):
    """Killed after suite.yaml recorded a round's seeds but before they trained: --resume
    trains them, then takes that look once."""
    _undecided_twice(monkeypatch)
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_tiny(tmp_path)), "--out", str(out), "--no-progress",
                 "--workers", "1", "--until-decided", "--max-seeds", "9",
                 "--seed-step", "2"]) == 0
    rounds = Rounds.load(out)
    for seed in (5, 6):  # forget the last round's runs and look
        shutil.rmtree(out / "runs" / f"ring8__wgan-gp__adam__s{seed}")
    Rounds(rounds.design, rounds.alpha, rounds.rounds[:-1]).save(out)
    _undecided_twice(monkeypatch)
    assert main(["run", "--resume", str(out), "--no-progress", "--workers", "1"]) == 0
    assert Rounds.load(out) == rounds
    assert (out / "runs" / "ring8__wgan-gp__adam__s6").is_dir()


def test_added_seeds_round_trip_and_are_checked():
    config = parse_suite(tiny_suite(seeds=2))
    cell = config.cell_keys()[0]
    grown = with_added_seeds(config, [cell], config.next_seeds(3))
    assert grown.seeds_of(cell) == (0, 1, 2, 3, 4) and grown.n_runs == config.n_runs + 3
    assert parse_suite(grown.to_dict()) == grown
    bad = grown.to_dict() | {"added_seeds": [{"cell": ["ring8", "mlp", "nope", "adam"],
                                              "seeds": [5]}]}
    with pytest.raises(BenchError, match="not a cell of the suite"):
        parse_suite(bad)


def test_rounds_options_need_until_decided(tmp_path, capsys):
    assert main(["run", "--suite", str(_tiny(tmp_path)), "--out", str(tmp_path / "o"),
                 "--max-seeds", "8"]) == 2
    err = capsys.readouterr().err
    assert "add --until-decided" in err and not (tmp_path / "o").exists()
