"""A suite as a value: the grid dataset x architecture x GAN x optimizer x seed under one
budget, its optional sections, and what follows from them (cells, labels, seeds, trials).

``bench.config.suite`` reads and checks a suite's YAML into a ``SuiteConfig``;
``bench.config.expansion`` turns one into the runs it trains.
"""

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bench.config.plugins import MODULES
from bench.config.search_space import SearchSpec, draw_trials, suite_seed
from bench.core.specs import (
    IMAGE,
    TOY_ARCH,
    Budget,
    Cell,
    ClaimsSpec,
    DiagnosticsSpec,
    EvalSpec,
    Gates,
    ImageModelSpec,
    ModelSpec,
    OptimizerSpec,
    ParallelLinesSpec,
    RandomArchitecturesSpec,
    TwoGaussiansSpec,
)
from bench.core.validators import POSITIVE_INT, checked
from bench.data import DATASETS
from gan_zoo.recipes import RECIPE_OPTIMIZER, Recipe, recipe_for

EXPERIMENT_SECTIONS = ("diagnostics", "parallel_lines", "two_gaussians", "random_architectures")
"""The optional side experiments: absent from a suite's YAML when off."""


@dataclass(frozen=True)
class OptimizerChoice:
    """One entry of a suite's optimizer axis."""

    name: str
    """One of OPTIMIZERS, or ``recipe``: each GAN's own recipe optimizer."""
    label: str
    settings: tuple[tuple[str, Any], ...] = ()
    """The ``OptimizerSettings`` it gives, as (field, value) pairs in the record's order; each
    GAN's recipe gives the rest (``lr`` replaces the recipe's per-network rates too)."""

    def run_label(self, recipe: Recipe) -> str:
        """The label of this entry's runs of a GAN with ``recipe``: the entry's label, plus
        the optimizer it resolved to for a ``recipe`` entry (e.g. ``recipe-rmsprop``)."""
        if self.name == RECIPE_OPTIMIZER:
            return f"{self.label}-{recipe.optimizer}"
        return self.label

    def resolve(self, recipe: Recipe) -> OptimizerSpec:
        """The optimizer this entry trains a GAN of ``recipe`` with."""
        return OptimizerSpec.resolve(recipe, None if self.name == RECIPE_OPTIMIZER else self.name,
                                     dict(self.settings))


@dataclass(frozen=True)
class SuiteConfig:
    """A suite: the grid dataset x GAN x optimizer x seed under one budget."""

    name: str
    description: str
    datasets: tuple[str, ...]
    gans: tuple[str, ...]
    optimizers: tuple[OptimizerChoice, ...]
    seeds: tuple[int, ...]
    budget: Budget
    batch_size: int = field(default=256, metadata=checked(POSITIVE_INT))
    """Real and generated samples per critic and generator step."""
    model: ModelSpec = field(default_factory=ModelSpec)
    image_model: ImageModelSpec = field(default_factory=ImageModelSpec)
    eval: EvalSpec = field(default_factory=EvalSpec)
    recipes: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    """Per-GAN recipe overrides, as sorted (gan, ((field, value), ...)) pairs."""
    group_size: int = field(default=8, metadata=checked(POSITIVE_INT))
    """At most this many seeds of one configuration train together as one batched model."""
    gates: Gates | None = None
    """Regression thresholds for ``compare`` (the optional ``gates:`` section)."""
    claims: ClaimsSpec = field(default_factory=ClaimsSpec)
    """Thresholds of the claims report (the optional ``claims:`` section)."""
    diagnostics: DiagnosticsSpec | None = None
    """The critic diagnostics experiment: ``diagnostics: true`` or a mapping of overrides
    runs it after training; absent or false, it does not run."""
    parallel_lines: ParallelLinesSpec | None = None
    """Learning parallel lines (WGAN Example 1): ``parallel_lines: true`` or a mapping of
    overrides runs it after training; absent or false, it does not run."""
    two_gaussians: TwoGaussiansSpec | None = None
    """The discriminator vs the critic on two Gaussians (WGAN Fig. 2), like ``parallel_lines``."""
    random_architectures: RandomArchitecturesSpec | None = None
    """Random architectures trained with every GAN (WGAN-GP Table 2), like ``parallel_lines``."""
    search: SearchSpec | None = None
    """A hyperparameter study (the optional ``search:`` section): every cell searches the
    same space with the same number of trials, then reruns its best setting on fresh seeds."""
    added_seeds: tuple[tuple[Cell, tuple[int, ...]], ...] = ()
    """Seeds ``run --until-decided`` added to single cells beyond ``seeds``, as sorted
    (cell, seeds) pairs (the ``added_seeds:`` section it writes into suite.yaml)."""
    plugins: tuple[str, ...] = field(default=(), metadata=checked(MODULES))
    """Modules that register GANs, optimizers or architectures the suite names
    (``bench.config.plugins``), imported before its names are checked."""

    def seeds_of(self, cell: Cell) -> tuple[int, ...]:
        """The seeds ``cell``'s recipe runs train on: the suite's, and any added to it."""
        return self.seeds + dict(self.added_seeds).get(cell, ())

    def grid(self) -> Iterator[tuple[str, str, str, OptimizerChoice]]:
        """Every cell as (dataset, arch, GAN, optimizer entry), in suite order."""
        for dataset in self.datasets:
            for arch in self.archs(dataset):
                for gan in self.gans:
                    for choice in self.optimizers:
                        yield dataset, arch, gan, choice

    def cell_keys(self) -> list[Cell]:
        """Every cell of the suite, in suite order."""
        return [(dataset, arch, gan, choice.run_label(self.recipe(gan, dataset)))
                for dataset, arch, gan, choice in self.grid()]

    def recipe_overrides(self, gan: str) -> dict[str, Any]:
        return dict(dict(self.recipes).get(gan, ()))

    def recipe(self, gan: str, dataset: str) -> Recipe:
        """``gan``'s paper recipe for ``dataset``'s domain with the suite's overrides."""
        return recipe_for(gan, DATASETS[dataset].domain, self.recipe_overrides(gan))

    def algorithms(self) -> list[str]:
        """Every optimizer algorithm the suite's runs train with, in suite order (a
        ``recipe`` entry gives each GAN's own)."""
        names = [choice.resolve(self.recipe(gan, dataset)).name for choice in self.optimizers
                 for gan in self.gans for dataset in self.datasets]
        return list(dict.fromkeys(names))

    def run_labels(self) -> list[str]:
        """Every optimizer label the suite's runs carry, in suite order (a ``recipe`` entry
        gives one label per optimizer its GANs' recipes name)."""
        labels = [choice.run_label(self.recipe(gan, dataset)) for choice in self.optimizers
                  for gan in self.gans for dataset in self.datasets]
        return list(dict.fromkeys(labels))

    @property
    def image_archs(self) -> tuple[str, ...]:
        arch = self.image_model.arch
        return arch if isinstance(arch, tuple) else (arch,)

    def archs(self, dataset: str) -> tuple[str, ...]:
        """The architectures ``dataset``'s runs train: the suite's image architectures, or
        the MLP for 2-D data."""
        return self.image_archs if DATASETS[dataset].domain == IMAGE else (TOY_ARCH,)

    @property
    def n_cells(self) -> int:
        settings = sum(len(self.archs(d)) for d in self.datasets)
        return settings * len(self.gans) * len(self.optimizers)

    @property
    def n_runs(self) -> int:
        """Every run: at the recipes, and for a study its trials and reruns."""
        per_cell = len(self.seeds)
        if self.search is not None:
            per_cell += self.search.trials * len(self.seeds) + len(self.rerun_seeds)
        return self.n_cells * per_cell + sum(len(seeds) for _, seeds in self.added_seeds)

    def next_seeds(self, count: int) -> tuple[int, ...]:
        """``count`` seeds no run of the suite uses yet (after its largest seed)."""
        used = [*self.seeds, *self.rerun_seeds, *(s for _, seeds in self.added_seeds
                                                   for s in seeds)]
        first = max(used) + 1
        return tuple(range(first, first + count))

    @property
    def rerun_seeds(self) -> tuple[int, ...]:
        """Fresh seeds for a study's reruns: the ones after the suite's largest seed."""
        if self.search is None:
            return ()
        first = max(self.seeds) + 1
        return tuple(range(first, first + self.search.rerun_seed_count))

    def trial_settings(self, optimizer: str) -> list[dict[str, float | int]]:
        """A study's trial settings for the cells trained with ``optimizer`` (an algorithm),
        drawn reproducibly from the suite's name and search."""
        assert self.search is not None
        identity = json.dumps([self.name, self.search.to_dict()], sort_keys=True)
        return draw_trials(self.search, suite_seed(identity), optimizer)

    def to_dict(self) -> dict[str, Any]:
        """A YAML-ready dict that ``parse_suite`` reads back into an equal config."""
        d = asdict(self)
        d["budget"] = {self.budget.kind: self.budget.amount}
        d["optimizers"] = [
            {"name": o.name, "label": o.label,
             **{k: list(v) if isinstance(v, tuple) else v for k, v in o.settings}}
            for o in self.optimizers
        ]
        d["datasets"], d["gans"], d["seeds"] = (
            list(self.datasets),
            list(self.gans),
            list(self.seeds),
        )
        d["recipes"] = {gan: {k: list(v) if isinstance(v, tuple) else v for k, v in items}
                        for gan, items in self.recipes}
        if isinstance(self.image_model.arch, tuple):
            d["image_model"]["arch"] = list(self.image_model.arch)
        if self.gates is None:
            del d["gates"]  # an optional section: absent, not null
        else:
            d["gates"] = self.gates.to_dict()
        for section in EXPERIMENT_SECTIONS:
            if getattr(self, section) is None:
                del d[section]
        if self.random_architectures is not None:
            d["random_architectures"] = self.random_architectures.to_dict()
        if self.search is None:
            del d["search"]
        else:
            d["search"] = self.search.to_dict()
        if self.added_seeds:
            d["added_seeds"] = [{"cell": list(cell), "seeds": list(seeds)}
                                for cell, seeds in self.added_seeds]
        else:
            del d["added_seeds"]
        if self.plugins:
            d["plugins"] = list(self.plugins)
        else:
            del d["plugins"]
        return d


def with_added_seeds(config: SuiteConfig, cells: list[Cell], seeds: tuple[int, ...]
                     ) -> SuiteConfig:
    """``config`` with ``seeds`` added to each of ``cells``."""
    added = dict(config.added_seeds)
    for cell in cells:
        added[cell] = added.get(cell, ()) + seeds
    return replace(config, added_seeds=tuple(sorted(added.items())))
