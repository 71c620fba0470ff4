"""The rounds of ``run --until-decided``: which cells get new seeds, the significance level
of each look, and the rounds file a results folder keeps.

A suite judged again after every round of new seeds looks at its data several times. Judged
at a fixed alpha each time, a check would get several chances to cross it by luck. The
claims are judged instead at each look's nominal level of a group-sequential design
(``bench.stats.sequential``: Lan-DeMets alpha spending, O'Brien-Fleming shape), with the
information fraction of a check at look k = its own seeds per arm at that look /
``max_seeds`` (``check_levels``). The claim's logic (bench.analysis.family) runs at those
levels, and each undecided check plans its seeds at the level of its projected last look.

Plain values only (no torch, no suite parsing): the report reads the rounds file to judge
each check at its last look's level and to list the rounds.
"""

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.core.atomic import write_text_atomic
from bench.core.specs import Cell

ROUNDS_FILE = "rounds.json"


@dataclass(frozen=True)
class Design:
    """How seeds are added: ``seed_step`` more to each cell an undecided check needs, until
    every check is decided or a cell holds ``max_seeds``."""

    start_seeds: int
    """Seeds per cell the suite plans (the first look)."""
    max_seeds: int = 20
    seed_step: int = 4

    def fraction(self, look: int) -> float:
        """Information fraction of look ``look`` (0: the planned seeds)."""
        return min(1.0, (self.start_seeds + look * self.seed_step) / self.max_seeds)

    def looks(self) -> int:
        """The most looks the design can take (the last at ``max_seeds``)."""
        return max(1, math.ceil((self.max_seeds - self.start_seeds) / self.seed_step) + 1)

    def level(self, look: int, alpha: float) -> float:
        """The one-sided significance level of look ``look``: alpha spent so far, minus what
        earlier looks spent, as a nominal p-value level."""
        from bench.stats.sequential import nominal_levels  # scipy: not for the CLI's --help

        fractions = [self.fraction(k) for k in range(look + 1)]
        return nominal_levels(fractions, alpha)[-1]


@dataclass(frozen=True)
class Check:
    """What the planner needs of one judged check."""

    verdict: str
    seeds_needed: float
    """Seeds per arm that would decide it (the power search's answer); NaN when no number
    of seeds would."""
    cells: tuple[Cell, ...]
    """The cells whose seeds it compares."""


def check_levels(design: Design, alpha: float, looks_added: list[dict[str, list[int]]],
                 seeds_now: dict[Cell, int]):
    """A ``LevelOf`` for bench.analysis.family: each check's (level now, level at its last
    look) from its own seeds. ``looks_added[k]`` holds the seeds look k added per cell (by
    ``cell_name``; {} for the planned seeds), the last entry being the look judged now;
    ``seeds_now`` the seeds each cell holds now.

    A check's information fraction at a look is the fewest seeds among its cells over
    ``max_seeds``; a look that added none of its seeds is no new look for it (its data did
    not change). A check that reads no cell (the side experiments, whose seeds no round
    adds) is looked at once: full alpha. Its last look is projected at ``seed_step`` more
    seeds per round up to ``max_seeds``."""
    from bench.stats.sequential import nominal_levels  # scipy: not for the CLI's --help

    def level_of(cells: tuple[Cell, ...]) -> tuple[float, float]:
        if not cells:
            return alpha, alpha
        seen: list[float] = []
        for k in range(len(looks_added)):
            later = [sum(len(looks_added[j].get(cell_name(c), []))
                         for j in range(k + 1, len(looks_added))) for c in cells]
            n = min(seeds_now.get(c, 0) - added for c, added in zip(cells, later, strict=True))
            fraction = min(1.0, n / design.max_seeds)
            if fraction > 0 and (not seen or fraction > seen[-1]):
                seen.append(fraction)
        if not seen:
            return alpha, alpha
        now = nominal_levels(seen, alpha)[-1]
        n, projected = seen[-1] * design.max_seeds, list(seen)
        while projected[-1] < 1.0:
            n += design.seed_step
            projected.append(min(1.0, n / design.max_seeds))
        return now, nominal_levels(projected, alpha)[-1]
    return level_of


def cells_to_extend(checks: Iterable[Check], seeds: dict[Cell, int], max_seeds: int,
                    inconclusive: str) -> list[Cell]:
    """The cells that an undecided check needs and that hold fewer than ``max_seeds``
    seeds: where the next round's seeds go (sorted, so a resumed round plans the same). A
    check that needs more than ``max_seeds`` seeds per arm, or that no number of seeds would
    decide, sends none: the cap cannot decide it, and the report says what would."""
    wanted = {cell for check in checks
              if check.verdict == inconclusive and check.seeds_needed <= max_seeds
              for cell in check.cells}
    return sorted(cell for cell in wanted if seeds.get(cell, 0) < max_seeds)


@dataclass
class Round:
    """One look: the seeds it added (none for the first) and the verdicts after it."""

    look: int
    level: float
    """The significance level the claims were judged at."""
    added: dict[str, list[int]] = field(default_factory=dict)
    """Cell (``dataset / arch / gan / optimizer``) -> the seeds this round added to it."""
    verdicts: dict[str, str] = field(default_factory=dict)
    """``claim N`` -> its overall verdict after the round."""
    undecided: int = 0
    """Checks still inconclusive after the round."""


@dataclass
class Rounds:
    """The rounds file: the design and every look taken so far."""

    design: Design
    alpha: float
    rounds: list[Round] = field(default_factory=list)

    def levels(self, seeds_now: dict[Cell, int], look: int | None = None,
               added: dict[str, list[int]] | None = None):
        """``check_levels`` at look ``look`` (default: the last recorded one), which added
        ``added`` (default: what that round recorded), the cells holding ``seeds_now``."""
        look = len(self.rounds) - 1 if look is None else look
        added = self.rounds[look].added if added is None else added
        looks = [r.added for r in self.rounds[:look]] + [added]
        return check_levels(self.design, self.alpha, looks, seeds_now)

    def save(self, root: Path) -> None:
        write_text_atomic(Path(root) / ROUNDS_FILE, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, root: Path) -> "Rounds | None":
        path = Path(root) / ROUNDS_FILE
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        return cls(Design(**raw["design"]), raw["alpha"],
                   [Round(**r) for r in raw["rounds"]])


def cell_name(cell: Cell) -> str:
    return " / ".join(cell)
