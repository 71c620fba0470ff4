"""``run --until-decided``: after the planned seeds, add seeds round by round to the cells that
an undecided check needs, until every check is decided or the cells hold ``max_seeds``.

Each round trains its new seeds like any seeds (one batched group per cell), writes them to
the results folder, records them in suite.yaml (``added_seeds:``), then judges the claims at
the look's level of the group-sequential design (``bench.storage.rounds``) and appends the round to
``rounds.json``. A run killed at any point resumes with ``run --resume DIR``: the rounds file
keeps the design, suite.yaml the seeds already added, the store the runs already trained.

Every check names the cells whose seeds it reads (its arms', a correlation's, a speed
comparison's, a weight statistic's): an undecided one that ``max_seeds`` seeds per arm
could decide (its power search's ``seeds_needed``) sends the next round's seeds there.
Checks over the side experiments (critic diagnostics, parallel lines, two Gaussians) read
no cell: their seeds are the sections' ``seeds:``.
"""

from pathlib import Path

from bench.analysis.claims import CLAIMS
from bench.analysis.family import LevelOf
from bench.analysis.rules import INCONCLUSIVE
from bench.analysis.suite_data import load_suite_data
from bench.config.suite_config import SuiteConfig, with_added_seeds
from bench.orchestration.runner import SuiteOutcome, run_suite
from bench.report.summary import recipe_results
from bench.storage.rounds import (
    Check,
    Design,
    Round,
    Rounds,
    cell_name,
    cells_to_extend,
)
from bench.storage.store import ResultsStore


def judge(root: Path, config: SuiteConfig,
          level_of: LevelOf) -> tuple[dict[str, str], list[Check]]:
    """The claims of the results in ``root``, each check judged at its own look's level
    (``level_of``): each claim's overall verdict, and every check as the planner sees it."""
    summary, metrics = recipe_results(ResultsStore(root))
    data = load_suite_data(root, config, summary, metrics)
    verdicts, checks = {}, []
    for claim in CLAIMS:
        verdict, claim_checks = claim.evaluate(data, level_of)
        verdicts[f"claim {claim.id}"] = verdict
        # the planner tries what the data leave plausible (bench.analysis.rules.Plan)
        checks += [Check(c.outcome.verdict, c.seeds_plausible, c.seed_cells())
                   for c in claim_checks]
    return verdicts, checks


def run_until_decided(config: SuiteConfig, out: Path, design: Design,
                      **run_options) -> SuiteOutcome:
    """Train ``config`` into ``out``, then add ``design.seed_step`` seeds to the cells an
    undecided check needs, round after round; ``run_options`` go to ``run_suite``. Returns the
    last round's training outcome."""
    store = ResultsStore(out)
    rounds = Rounds.load(out) or Rounds(design, config.claims.alpha)
    while True:
        outcome = run_suite(config, out, **run_options)
        if outcome.failures:
            return outcome
        new = _added_in(config, rounds)
        # a resumed driver that had judged these runs already takes the same look again
        look = rounds.rounds[-1].look if rounds.rounds and not new else len(rounds.rounds)
        level = rounds.design.level(look, rounds.alpha)
        seeds = {cell: len(config.seeds_of(cell)) for cell in config.cell_keys()}
        added = new if look == len(rounds.rounds) else None  # None: the look recorded
        verdicts, checks = judge(out, config, rounds.levels(seeds, look, added))
        if look == len(rounds.rounds):
            rounds.rounds.append(Round(look, level, new, verdicts,
                                       sum(c.verdict == INCONCLUSIVE for c in checks)))
            rounds.save(out)
        cells = cells_to_extend(checks, seeds, rounds.design.max_seeds, INCONCLUSIVE)
        undecided = sum(c.verdict == INCONCLUSIVE for c in checks)
        print(f"round {look}: claims judged at level {level:.3g}; {undecided} check(s) "
              f"undecided, {len(cells)} cell(s) to get more seeds")
        if not cells or look + 1 >= rounds.design.looks():
            return outcome
        new_seeds = config.next_seeds(rounds.design.seed_step)
        for cell in cells:  # none beyond max_seeds; a round's seeds of a cell train together
            config = with_added_seeds(config, [cell],
                                      new_seeds[:rounds.design.max_seeds - seeds[cell]])
        store.extend_suite(config)


def _added_in(config: SuiteConfig, rounds: Rounds) -> dict[str, list[int]]:
    """The seeds of ``config`` that no earlier round recorded: what the latest round added."""
    recorded = {}
    for past in rounds.rounds:
        for cell, seeds in past.added.items():
            recorded.setdefault(cell, set()).update(seeds)
    added = {}
    for cell, seeds in config.added_seeds:
        new = [s for s in seeds if s not in recorded.get(cell_name(cell), set())]
        if new:
            added[cell_name(cell)] = new
    return added
