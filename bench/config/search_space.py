"""A suite's ``search:`` section: the hyperparameter space every cell searches, and the trials
drawn from it.

``parse_search`` checks each value with bench.core.validators, the one validation path of suite
values: a bound of ``lr`` passes the validator of a recipe's ``lr``, a bound of ``beta1`` the
validator of an Adam beta. A field may have its own range for an optimizer algorithm
(``by_optimizer``: an SGD step scales with the gradient, an Adam step does not).
``draw_trials`` maps points of [0, 1)^d (i.i.d. or scrambled Sobol) through each field's
quantile function, in the range of the cell's optimizer: trial i is the same point in every
cell. Parsing needs numpy only (a suite
check loads no scipy); drawing Sobol points loads scipy, not torch.
"""

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bench.core import validators
from bench.core.hyperparameters import HYPERPARAMETERS, SEARCH_FIELDS, check_exclusive
from bench.core.validators import fail
from gan_zoo.recipes import OPTIMIZERS

SAMPLERS = ("random", "sobol")
SEARCH_KEYS = ("trials", "sampler", "space", "by_optimizer", "rerun_best")
REQUIRED_KEYS = ("trials", "space")


def _bounds(raw: Any, where: str, *checks: validators.Number) -> tuple[float, float]:
    """``[low, high]`` with low < high, each bound passing every check in turn."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise fail(where, f"expected [low, high], got {raw!r}")
    for i, bound in enumerate(raw):
        for check in checks:
            check(bound, f"{where}[{i}]")
    low, high = float(raw[0]), float(raw[1])
    if not low < high:
        raise fail(where, f"expected [low, high] with low < high, got {raw!r}")
    return low, high


def _inside(values: np.ndarray, low: float, high: float) -> list[float]:
    # rounding can step an ulp past a bound, and the field's validator may refuse that value
    # (an Adam beta must stay below 1)
    return np.clip(values, low, high).tolist()


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high]."""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    @classmethod
    def parse(cls, raw: Any, where: str, check: validators.Number) -> "Uniform":
        return cls(*_bounds(raw, where, check))

    def quantile(self, u: np.ndarray) -> list[float]:
        """The values at quantiles ``u`` in [0, 1)."""
        return _inside(self.low + u * (self.high - self.low), self.low, self.high)

    def to_dict(self) -> dict[str, list[float]]:
        return {self.kind: [self.low, self.high]}


@dataclass(frozen=True)
class LogUniform:
    """Uniform in log space on [low, high], 0 < low: each decade is equally likely."""

    low: float
    high: float
    kind: ClassVar[str] = "log_uniform"

    @classmethod
    def parse(cls, raw: Any, where: str, check: validators.Number) -> "LogUniform":
        return cls(*_bounds(raw, where, check, validators.POSITIVE))

    def quantile(self, u: np.ndarray) -> list[float]:
        """The values at quantiles ``u`` in [0, 1)."""
        log_low, log_high = np.log(self.low), np.log(self.high)
        return _inside(np.exp(log_low + u * (log_high - log_low)), self.low, self.high)

    def to_dict(self) -> dict[str, list[float]]:
        return {self.kind: [self.low, self.high]}


@dataclass(frozen=True)
class Choice:
    """One of ``values``, each equally likely."""

    values: tuple[int | float, ...]
    kind: ClassVar[str] = "choice"

    @classmethod
    def parse(cls, raw: Any, where: str, check: validators.Number) -> "Choice":
        if not isinstance(raw, list) or not raw:
            raise fail(where, f"expected a non-empty list of values, got {raw!r}")
        cast = int if check.integer else float
        values = tuple(cast(check(value, f"{where}[{i}]")) for i, value in enumerate(raw))
        if len(set(values)) != len(values):
            raise fail(where, f"expected distinct values, got {raw!r}")
        return cls(values)

    def quantile(self, u: np.ndarray) -> list[int | float]:
        """The values at quantiles ``u`` in [0, 1): value i for u in [i/n, (i+1)/n)."""
        return [self.values[i] for i in np.floor(u * len(self.values)).astype(int)]

    def to_dict(self) -> dict[str, list[int | float]]:
        return {self.kind: list(self.values)}


Distribution = Uniform | LogUniform | Choice
DISTRIBUTIONS: dict[str, type[Distribution]] = {d.kind: d for d in (Uniform, LogUniform, Choice)}
Space = tuple[tuple[str, Distribution], ...]
"""(field, distribution) pairs sorted by field."""


@dataclass(frozen=True)
class SearchSpec:
    """The random search every (dataset, GAN, optimizer) cell runs."""

    trials: int
    """Hyperparameter settings per cell, the same for every cell."""
    sampler: str
    """random (i.i.d.) or sobol (scrambled Sobol points)."""
    space: Space
    """(field, distribution) pairs sorted by field, so the order of the YAML keys changes
    neither the spec nor the settings drawn from it."""
    rerun_seed_count: int = 0
    """How many fresh seeds the best setting of each cell trains again on; 0: no rerun."""
    by_optimizer: tuple[tuple[str, Space], ...] = ()
    """(optimizer algorithm, its own distributions of some of ``space``'s fields), sorted:
    each optimizer searches the range suited to it, under equal tuning effort."""

    def space_for(self, optimizer: str) -> Space:
        """The space the cells trained with ``optimizer`` (an algorithm) search."""
        own = dict(dict(self.by_optimizer).get(optimizer, ()))
        return tuple((field, own.get(field, dist)) for field, dist in self.space)

    def ranges(self, field: str) -> list[Distribution]:
        """Every distribution ``field`` is searched with: the space's, then each optimizer's."""
        return [dist for space in (self.space, *(own for _, own in self.by_optimizer))
                for name, dist in space if name == field]

    def to_dict(self) -> dict[str, Any]:
        """A YAML-ready dict that ``parse_search`` reads back into an equal spec."""
        d: dict[str, Any] = {
            "trials": self.trials,
            "sampler": self.sampler,
            "space": {field: dist.to_dict() for field, dist in self.space},
        }
        if self.by_optimizer:  # absent when empty: older suites keep their identity and draws
            d["by_optimizer"] = {optimizer: {field: dist.to_dict() for field, dist in own}
                                 for optimizer, own in self.by_optimizer}
        if self.rerun_seed_count:
            d["rerun_best"] = {"seeds": self.rerun_seed_count}
        return d


def _parse_distribution(field: str, raw: Any, where: str) -> Distribution:
    raw = validators.mapping(raw, where, tuple(DISTRIBUTIONS))
    if len(raw) != 1:
        raise fail(where, f"give exactly one of {', '.join(DISTRIBUTIONS)}, e.g. "
                   "{log_uniform: [1.0e-5, 1.0e-2]}")
    (kind, args), = raw.items()
    check = SEARCH_FIELDS[field]
    if check.integer and kind != Choice.kind:
        raise fail(where, f"{field} takes integers: give a choice, e.g. {{choice: [1, 5]}}, "
                   f"not {kind}")
    return DISTRIBUTIONS[kind].parse(args, f"{where}.{kind}", check)


def _parse_space(raw: Any, where: str) -> Space:
    raw = validators.mapping(raw, where, tuple(SEARCH_FIELDS))
    if not raw:
        raise fail(where, "expected at least one field, e.g. "
                   "{lr: {log_uniform: [1.0e-5, 1.0e-2]}}")
    check_exclusive(raw, where)
    return tuple((field, _parse_distribution(field, raw[field], f"{where}.{field}"))
                 for field in sorted(raw))


def _parse_own_space(optimizer: str, raw: Any, space: Space, where: str) -> Space:
    """An optimizer's own distributions: fields of ``space`` that the optimizer uses."""
    searched = [field for field, _ in space]
    raw = validators.mapping(raw, where, tuple(searched))
    if not raw:
        raise fail(where, f"expected at least one of {', '.join(searched)}, e.g. "
                   "{lr: {log_uniform: [1.0e-3, 1.0e-1]}}")
    for field in sorted(raw):
        h = HYPERPARAMETERS[field]
        if not h.used_by((h.recipe_field,), optimizer):  # constraints: any GAN's
            raise fail(f"{where}.{field}", f"{optimizer} does not use {field}")
    return tuple((field, _parse_distribution(field, raw[field], f"{where}.{field}"))
                 for field in sorted(raw))


def _parse_by_optimizer(raw: Any, space: Space, where: str) -> tuple[tuple[str, Space], ...]:
    if raw is None:
        return ()
    raw = validators.mapping(raw, where, OPTIMIZERS)
    return tuple((optimizer, _parse_own_space(optimizer, raw[optimizer], space,
                                              f"{where}.{optimizer}"))
                 for optimizer in sorted(raw))


def _parse_rerun(raw: Any, where: str) -> int:
    if raw is None:
        return 0
    raw = validators.mapping(raw, where, ("seeds",))
    if "seeds" not in raw:
        raise fail(where, "missing 'seeds', e.g. {seeds: 5}")
    return validators.POSITIVE_INT(raw["seeds"], f"{where}.seeds")


def parse_search(raw: Any, where: str = "search") -> SearchSpec | None:
    """Validate a ``search:`` section (as loaded from YAML); None when the suite has none."""
    if raw is None:
        return None
    raw = validators.mapping(raw, where, SEARCH_KEYS)
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise fail(where, f"missing required key '{key}'")
    space = _parse_space(raw["space"], f"{where}.space")
    return SearchSpec(
        trials=validators.POSITIVE_INT(raw["trials"], f"{where}.trials"),
        sampler=validators.Choice(SAMPLERS)(raw.get("sampler", "random"), f"{where}.sampler"),
        space=space,
        rerun_seed_count=_parse_rerun(raw.get("rerun_best"), f"{where}.rerun_best"),
        by_optimizer=_parse_by_optimizer(raw.get("by_optimizer"), space,
                                         f"{where}.by_optimizer"),
    )


def _unit_points(sampler: str, n: int, dims: int, seed: int) -> np.ndarray:
    """``n`` points of [0, 1)^dims, shape [n, dims]: the first ``n`` of any longer draw with
    the same seed, so a study given more trials keeps the settings it already has."""
    if sampler == "random":
        return np.random.default_rng(seed).random((n, dims))
    # Scrambled Sobol points are balanced in sets of 2^m and scipy warns when .random(n) is
    # asked for another count. The first n points of the next 2^m are exactly what
    # .random(n) returns: the same settings, drawn without a warning that cannot be acted on
    # when the suite asks for n trials.
    from scipy.stats import qmc  # here: parsing a suite loads no scipy

    sobol = qmc.Sobol(dims, scramble=True, rng=seed)
    return sobol.random_base2((n - 1).bit_length())[:n]


def draw_trials(spec: SearchSpec, seed: int, optimizer: str) -> list[dict[str, float | int]]:
    """``spec.trials`` settings {field: value} for the cells trained with ``optimizer`` (an
    algorithm), the same for the same ``seed``; trial i is the same point of [0, 1)^d for
    every optimizer, read through its own ranges. Values of integer fields are ints, the
    others floats."""
    points = _unit_points(spec.sampler, spec.trials, len(spec.space), seed)
    columns = [(field, dist.quantile(points[:, j]))
               for j, (field, dist) in enumerate(spec.space_for(optimizer))]
    return [{field: values[i] for field, values in columns} for i in range(spec.trials)]


def suite_seed(identity: str) -> int:
    """A seed in [0, 2^63) that depends on ``identity`` alone (e.g. a suite's name and its
    search spec), so a resumed study draws the same settings; Python's ``hash()`` of a string
    changes from process to process."""
    return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big") >> 1
