"""A suite: its YAML -> a validated ``SuiteConfig`` -> the ``RunSpec``s it trains.

Everything a run needs is resolved here, before anything is written: unknown names, bad
types, unknown keys and impossible budgets raise one BenchError that says what is wrong and
what is valid.
"""

import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bench.config.search_space import SearchSpec, draw_trials, parse_search, suite_seed
from bench.core.errors import BenchError
from bench.core.hyperparameters import (
    RECIPE_CHECKS,
    check_exclusive,
    optimizers_using,
    used_fields,
    with_setting,
)
from bench.core.outputs import better, checkpoint_outputs
from bench.core.specs import (
    BUDGET_KINDS,
    CRITIC_NORM_AUTO,
    IMAGE,
    RERUN_PHASE,
    TOY_ARCH,
    TRIAL_PHASE,
    Budget,
    ClaimsSpec,
    DiagnosticsSpec,
    EvalSpec,
    Gates,
    ImageModelSpec,
    MetricGate,
    ModelSpec,
    OptimizerSpec,
    ParallelLinesSpec,
    RandomArchitecturesSpec,
    RunSpec,
    StudyRole,
    TwoGaussiansSpec,
)
from bench.core.validators import (
    POSITIVE,
    POSITIVE_INT,
    Choice,
    Number,
    fail,
    fits_name,
    identifier,
    mapping,
    names,
    parse_dataclass,
    text,
    validator_of,
)
from bench.data import DATASETS
from bench.data.datasets import MixtureModes
from bench.metrics.declarations import METRIC_SPECS
from gan_zoo.architectures.dcgan import CRITIC_NORMS, IMAGE_ARCHS
from gan_zoo.architectures.mlp import ACTIVATIONS
from gan_zoo.recipes import OPTIMIZER_SETTINGS, OPTIMIZERS, RECIPE_FIELDS, Recipe, recipe_for
from gan_zoo.registry import GANS

SUITES_DIR = Path(__file__).parent.parent / "suites"
Cell = tuple[str, str, str, str]
"""(dataset, arch, GAN, optimizer label), as RunSpec.cell."""
RECIPE_OPTIMIZER = "recipe"
"""The optimizer-axis entry that gives each GAN its own recipe's optimizer."""
OPTIMIZER_CHOICES = (*OPTIMIZERS, RECIPE_OPTIMIZER)
MAX_SEED = 2**31 - 1
SEED = Number(minimum=0, maximum=MAX_SEED, integer=True)


def _archs(raw: Any, where: str) -> str | tuple[str, ...]:
    """One image architecture, or a list of them: the suite's architecture axis."""
    if isinstance(raw, list):
        archs = names(raw, tuple(IMAGE_ARCHS), where)
        return archs[0] if len(archs) == 1 else archs
    return Choice(tuple(IMAGE_ARCHS))(raw, where)


IMAGE_MODEL_CHECKS = {"arch": _archs, "critic_norm": Choice((CRITIC_NORM_AUTO, *CRITIC_NORMS))}
"""The image model's fields that name registered architectures and norms."""


def _parse_image_model(raw: Any, where: str = "image_model") -> ImageModelSpec:
    """``image_model:``: architectures and norms checked against the registry, the other
    fields by their declared validators."""
    if raw is None:
        return ImageModelSpec()
    raw = dict(mapping(raw, where, tuple(f.name for f in fields(ImageModelSpec))))
    named = {key: check(raw.pop(key), f"{where}.{key}")
             for key, check in IMAGE_MODEL_CHECKS.items() if key in raw}
    return replace(parse_dataclass(ImageModelSpec, raw, where), **named)


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
    batch_size: int = 256
    """Real and generated samples per critic and generator step."""
    model: ModelSpec = field(default_factory=ModelSpec)
    image_model: ImageModelSpec = field(default_factory=ImageModelSpec)
    eval: EvalSpec = field(default_factory=EvalSpec)
    recipes: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    """Per-GAN recipe overrides, as sorted (gan, ((field, value), ...)) pairs."""
    group_size: int = 8
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

    def seeds_of(self, cell: Cell) -> tuple[int, ...]:
        """The seeds ``cell``'s recipe runs train on: the suite's, and any added to it."""
        return self.seeds + dict(self.added_seeds).get(cell, ())

    def cell_keys(self) -> list[Cell]:
        """Every cell of the suite, in suite order."""
        return [spec.cell for spec in _cells(self)]

    def recipe_overrides(self, gan: str) -> dict[str, Any]:
        return dict(dict(self.recipes).get(gan, ()))

    def recipe(self, gan: str, dataset: str) -> Recipe:
        """``gan``'s paper recipe for ``dataset``'s domain with the suite's overrides."""
        return recipe_for(gan, DATASETS[dataset].domain, self.recipe_overrides(gan))

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
        return d


# --- reading YAML -------------------------------------------------------------------------


class SuiteLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: ``2e-4`` and ``1E3`` are numbers (YAML
    1.1, which PyYAML follows, reads an exponent without a dot as a string), and a key
    written twice in one mapping is an error (PyYAML keeps the last, silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice (lines {lines[key]} and "
                    f"{line}); keep one", key_node.start_mark)
            lines[key] = line
        return super().construct_mapping(node, deep)


SuiteLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(text_: str, source: str) -> Any:
    """A YAML document read the way every suite is read; malformed YAML is a BenchError."""
    try:
        return yaml.load(text_, Loader=SuiteLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise BenchError(f"{source}: malformed YAML: {detail}") from None


# --- parsing ------------------------------------------------------------------------------


def parse_budget(raw: Any, where: str = "budget") -> Budget:
    """``{kind: amount}`` with exactly one kind from BUDGET_KINDS and a positive amount."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise fail(where, f"give exactly one of {', '.join(BUDGET_KINDS)}, e.g. "
                   "'generator_steps: 1000'")
    (kind, amount), = raw.items()
    if kind not in BUDGET_KINDS:
        raise fail(where, f"unknown budget {kind!r}; valid: {', '.join(BUDGET_KINDS)}")
    if kind == "seconds":
        return Budget(kind, float(POSITIVE(amount, f"{where}.{kind}")))
    return Budget(kind, POSITIVE_INT(amount, f"{where}.{kind}"))


def _parse_optimizer(raw: Any, where: str) -> OptimizerChoice:
    if isinstance(raw, str):
        raw = {"name": raw}
    raw = mapping(raw, where, ("name", "label", *OPTIMIZER_SETTINGS))
    if "name" not in raw:
        raise fail(where, f"expected an optimizer name or a mapping with 'name', got {raw!r}")
    name = Choice(OPTIMIZER_CHOICES)(raw["name"], f"{where}.name")
    check_exclusive(raw, where)
    for key in OPTIMIZER_SETTINGS:  # "recipe" names each GAN's own optimizer: checked there
        users = optimizers_using(key)
        if key in raw and name != "recipe" and users and name not in users:
            raise fail(f"{where}.{key}", f"{name} does not use {key} (only "
                       f"{', '.join(users)} do); drop it or pick one of those optimizers")
    settings = tuple((key, RECIPE_CHECKS[key](raw[key], f"{where}.{key}"))
                     for key in OPTIMIZER_SETTINGS if key in raw)
    return OptimizerChoice(name=name, label=identifier(raw.get("label", name), f"{where}.label"),
                           settings=settings)


def _parse_optimizers(raw: Any) -> tuple[OptimizerChoice, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("optimizers", "expected a non-empty list of optimizer names or mappings "
                   f"with name / label / {' / '.join(OPTIMIZER_SETTINGS)}, got {raw!r}")
    choices = tuple(_parse_optimizer(o, f"optimizers[{i}]") for i, o in enumerate(raw))
    labels = [c.label for c in choices]
    if len(set(labels)) != len(labels):
        raise fail("optimizers", f"labels must be unique, got {labels}; add 'label' to tell "
                   "entries of the same optimizer apart")
    return choices


def _parse_seeds(raw: Any) -> tuple[int, ...]:
    if isinstance(raw, list):
        if not raw:
            raise fail("seeds", "expected a count or a non-empty list of seeds, got []")
        seeds = tuple(SEED(s, f"seeds[{i}]") for i, s in enumerate(raw))
        if len(set(seeds)) != len(seeds):
            raise fail("seeds", f"duplicate seeds in {raw}")
        return seeds
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return tuple(range(Number(minimum=1, maximum=MAX_SEED, integer=True)(raw, "seeds")))
    raise fail("seeds", f"expected a count or a list of non-negative integers, got {raw!r}")


def _parse_recipes(raw: Any, section: str = "recipes") -> tuple:
    if raw is None:
        return ()
    raw = mapping(raw, section, tuple(GANS))
    out = []
    for gan, overrides in sorted(raw.items()):
        where = f"{section}.{gan}"
        overrides = mapping(overrides, where, RECIPE_FIELDS)
        check_exclusive(overrides, where)
        checked_values = {key: RECIPE_CHECKS[key](value, f"{where}.{key}")
                          for key, value in overrides.items()}
        out.append((gan, tuple(sorted(checked_values.items()))))
    return tuple(out)


def _parse_metric_gate(name: str, raw: Any, where: str) -> MetricGate:
    """One gated metric: its margin, and its direction from the metric registry unless the
    suite overrides it with ``better``."""
    raw = dict(mapping(raw, where, GATE_KEYS))
    if "margin" not in raw:
        raise fail(where, "missing 'margin'; e.g. {margin: 0.1} (add relative: true for a "
                   "fraction of the baseline mean)")
    declared = better(name)
    given = raw.pop("better", None)
    if given is None and declared is None:
        raise fail(where, f"{name} declares no better direction; give better: lower or higher")
    gate = parse_dataclass(MetricGate, raw, where)
    if given is None:
        return replace(gate, better=declared)
    given = validator_of(MetricGate, "better")(given, f"{where}.better")
    return replace(gate, better=given, overrides=given != declared)


GATE_KEYS = ("better", "margin", "relative")


def _parse_gates(raw: Any) -> Gates | None:
    if raw is None:
        return None
    raw = dict(mapping(raw, "gates", tuple(f.name for f in fields(Gates))))
    metrics = raw.pop("metrics", None)
    if not isinstance(metrics, dict) or not metrics:
        raise fail("gates.metrics", "expected a mapping metric -> {margin, relative, better}, "
                   f"e.g. {{w1: {{margin: 0.1}}}}, got {metrics!r}")
    gated = []
    for name, gate in sorted(metrics.items(), key=lambda item: str(item[0])):
        Choice(checkpoint_outputs())(name, "gates.metrics")
        gated.append((name, _parse_metric_gate(name, gate, f"gates.metrics.{name}")))
    return parse_dataclass(Gates, raw, "gates", Gates(metrics=tuple(gated)))


def _parse_experiment(spec: type, raw: Any, section: str) -> Any:
    """An optional experiment section: absent or false: None; true: the defaults; a mapping:
    overrides."""
    if raw is None or raw is False:
        return None
    return spec() if raw is True else parse_dataclass(spec, raw, section)


def _parse_random_architectures(raw: Any) -> RandomArchitecturesSpec | None:
    """The random-architectures section, its dataset, activations and recipes checked against
    the registries (2-D datasets whose modes are a mixture's centres: success counts them;
    the MLPs' activations; the GANs' recipe fields)."""
    where = "random_architectures"
    recipes = None
    if isinstance(raw, dict) and "recipes" in raw:  # the suite's recipes: form, parsed as one
        raw = dict(raw)
        recipes = _parse_recipes(raw.pop("recipes"), f"{where}.recipes")
    spec = _parse_experiment(RandomArchitecturesSpec, raw, where)
    if spec is not None:
        if recipes is not None:
            spec = replace(spec, recipes=recipes)
        Choice(tuple(name for name, d in DATASETS.items()
                     if d.is_points and isinstance(d.modes, MixtureModes)))(
            spec.dataset, f"{where}.dataset")
        for i, activation in enumerate(spec.activations):
            Choice(tuple(ACTIVATIONS))(activation, f"{where}.activations[{i}]")
    return spec


EXPERIMENT_SECTIONS = ("diagnostics", "parallel_lines", "two_gaussians", "random_architectures")
"""The optional side experiments: absent from a suite's YAML when off."""
SUITE_KEYS = tuple(f.name for f in fields(SuiteConfig))
REQUIRED_KEYS = ("name", "datasets", "gans", "optimizers", "seeds", "budget")


def _check_run_labels(config: SuiteConfig) -> None:
    """A ``recipe`` entry's labels (``recipe-adam``) must not repeat another entry's."""
    for gan in config.gans:
        for dataset in config.datasets:
            recipe = config.recipe(gan, dataset)
            labels = [choice.run_label(recipe) for choice in config.optimizers]
            repeated = sorted({label for label in labels if labels.count(label) > 1})
            if repeated:
                raise fail("optimizers", f"{gan} would get two entries labelled "
                           f"{', '.join(repeated)}; give one of them another 'label'")


def _check_searched_rates(config: SuiteConfig) -> None:
    """A searched ``lr`` sets both networks' rates and would drop an entry's ``lr_critic`` /
    ``lr_generator`` unseen (a searched network rate would split an entry's ``lr``): README's
    TTUR rule, ``lr`` with either is an error, holds across the search and each entry."""
    if config.search is None:
        return
    searched = {name for name, _ in config.search.space}
    for i, choice in enumerate(config.optimizers):
        given = {key for key, _ in choice.settings}
        check_exclusive(searched | given, f"search.space with optimizers[{i}] ({choice.label})")


def _check_nesterov(config: SuiteConfig) -> None:
    """Nesterov momentum needs a momentum (torch's rule), known before anything trains."""
    for gan in config.gans:
        for dataset in config.datasets:
            recipe = config.recipe(gan, dataset)
            for choice in config.optimizers:
                optimizer = choice.resolve(recipe)
                if optimizer.nesterov and optimizer.momentum == 0:
                    raise fail("optimizers", f"{choice.label} with {gan}: nesterov needs "
                               "momentum > 0")


def _check_metric_samples(config: SuiteConfig) -> None:
    """Every metric that applies to a dataset of the suite gets at least the samples it can be
    computed on (k-NN metrics need k + 1, covariances 2): known before anything trains."""
    for dataset in config.datasets:
        for name in DATASETS[dataset].metrics:
            metric = METRIC_SPECS[name]
            n = metric.samples(config.eval)
            if 0 < n < metric.min_samples:
                raise fail(f"eval.{metric.samples_field}",
                           f"{metric.name} (on {dataset}) needs at least {metric.min_samples} "
                           f"samples, got {n}; raise eval.{metric.samples_field}")


def parse_suite(raw: Any, source: str = "suite") -> SuiteConfig:
    """Validate a suite mapping (as loaded from YAML) into a SuiteConfig."""
    if not isinstance(raw, dict):
        raise BenchError(f"{source}: a suite must be a YAML mapping, got {type(raw).__name__}")
    unknown = sorted(map(str, set(raw) - set(SUITE_KEYS)))
    if unknown:
        raise BenchError(f"{source}: unknown key(s) {unknown}; valid: {', '.join(SUITE_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise BenchError(f"{source}: missing required key '{key}'")
    config = SuiteConfig(
        name=fits_name(identifier(raw["name"], "name"), "name", OUT_FOLDER_RESERVE),
        description=text(raw.get("description", ""), "description"),
        datasets=names(raw["datasets"], DATASETS, "datasets"),
        gans=names(raw["gans"], GANS, "gans"),
        optimizers=_parse_optimizers(raw["optimizers"]),
        seeds=_parse_seeds(raw["seeds"]),
        budget=parse_budget(raw["budget"]),
        batch_size=POSITIVE_INT(raw.get("batch_size", 256), "batch_size"),
        model=parse_dataclass(ModelSpec, raw.get("model"), "model"),
        image_model=_parse_image_model(raw.get("image_model")),
        eval=parse_dataclass(EvalSpec, raw.get("eval"), "eval"),
        recipes=_parse_recipes(raw.get("recipes")),
        group_size=POSITIVE_INT(raw.get("group_size", 8), "group_size"),
        gates=_parse_gates(raw.get("gates")),
        claims=parse_dataclass(ClaimsSpec, raw.get("claims"), "claims"),
        diagnostics=_parse_experiment(DiagnosticsSpec, raw.get("diagnostics"), "diagnostics"),
        parallel_lines=_parse_experiment(ParallelLinesSpec, raw.get("parallel_lines"),
                                         "parallel_lines"),
        two_gaussians=_parse_experiment(TwoGaussiansSpec, raw.get("two_gaussians"),
                                        "two_gaussians"),
        random_architectures=_parse_random_architectures(raw.get("random_architectures")),
        search=parse_search(raw.get("search")),
    )
    _check_run_labels(config)
    _check_searched_rates(config)
    _check_nesterov(config)
    _check_metric_samples(config)
    return replace(config, added_seeds=_parse_added_seeds(raw.get("added_seeds"), config))


def _parse_added_seeds(raw: Any, config: SuiteConfig) -> tuple:
    """``added_seeds: [{cell: [dataset, arch, gan, optimizer], seeds: [...]}]``: cells of the
    suite, seeds none of its runs use."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail("added_seeds", f"expected a list of {{cell, seeds}}, got {raw!r}")
    cells, used, out = set(config.cell_keys()), set(config.seeds), {}
    for i, entry in enumerate(raw):
        where = f"added_seeds[{i}]"
        entry = mapping(entry, where, ("cell", "seeds"))
        cell = tuple(entry.get("cell") or ())
        if cell not in cells:
            raise fail(f"{where}.cell", f"{list(cell)} is not a cell of the suite (dataset, "
                       "arch, GAN, optimizer label)")
        seeds = _parse_seeds(entry.get("seeds"))
        if used & set(seeds) or cell in out:
            raise fail(f"{where}.seeds", "a cell's added seeds must be new to it")
        out[cell] = seeds
    return tuple(sorted(out.items()))


def with_added_seeds(config: SuiteConfig, cells: list[Cell], seeds: tuple[int, ...]
                     ) -> SuiteConfig:
    """``config`` with ``seeds`` added to each of ``cells``."""
    added = dict(config.added_seeds)
    for cell in cells:
        added[cell] = added.get(cell, ()) + seeds
    return replace(config, added_seeds=tuple(sorted(added.items())))


def builtin_suites() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SUITES_DIR.glob("*.yaml"))}


def load_suite(name_or_path: str) -> SuiteConfig:
    """A built-in suite by name, or a YAML file by path."""
    path = Path(name_or_path)
    suites = builtin_suites()
    if name_or_path in suites:
        path = suites[name_or_path]
    elif not path.is_file():
        raise BenchError(
            f"unknown suite '{name_or_path}': not a built-in suite ({', '.join(suites)}) "
            "and no such YAML file"
        )
    try:
        content = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: cannot read the suite: {exc}") from None
    return parse_suite(read_yaml(content, str(path)), str(path))


def with_overrides(
    config: SuiteConfig, *, seeds: int | None = None, budget: Budget | None = None
) -> SuiteConfig:
    """The suite with the CLI's seed count and budget applied."""
    if seeds is not None:
        config = replace(config, seeds=_parse_seeds(seeds))
    if budget is not None:
        config = replace(config, budget=budget)
    return config


def _with_trial(spec: RunSpec, phase: str, trial: int, setting: dict[str, float | int],
                seed: int) -> RunSpec:
    """``spec`` at a trial's setting (the fields its GAN and optimizer use) and ``seed``."""
    used = used_fields(GANS[spec.gan].constraint_fields, spec.optimizer.name)
    params = {k: v for k, v in setting.items() if k in used}
    return replace(with_setting(spec, params), seed=seed,
                   study=StudyRole(phase, trial, tuple(sorted(params.items()))))


def _cells(config: SuiteConfig) -> list[RunSpec]:
    """One recipe run per cell (at the suite's first seed): the template of its runs."""
    cells = []
    for dataset in config.datasets:
        for arch in config.archs(dataset):
            # every run holds one architecture (2-D runs ignore theirs)
            image_model = replace(config.image_model,
                                  arch=config.image_archs[0] if arch == TOY_ARCH else arch)
            for gan in config.gans:
                recipe = config.recipe(gan, dataset)
                cells.extend(
                    RunSpec(
                        suite=config.name,
                        dataset=dataset,
                        gan=gan,
                        optimizer_label=choice.run_label(recipe),
                        optimizer=choice.resolve(recipe),
                        recipe=recipe,
                        seed=config.seeds[0],
                        budget=config.budget,
                        batch_size=config.batch_size,
                        model=config.model,
                        image_model=image_model,
                        eval=config.eval,
                        domain=DATASETS[dataset].domain,
                        data_shape=DATASETS[dataset].shape,
                    )
                    for choice in config.optimizers
                )
    return cells


OUT_FOLDER_RESERVE = len("-20250101-120000")
"""The time stamp of the default results folder, ``results/<suite>-<time>``."""
RUN_FOLDER_RESERVE = len("..") + 8
"""What the store adds to a run id: its temporary folder ``.<run_id>.<8 random>``."""


def _fitting(specs: list[RunSpec]) -> list[RunSpec]:
    """``specs``, refused (before anything is written) when a run's folder name would be
    longer than the filesystem allows: the optimizer label is the part a suite chooses."""
    for spec in specs:
        fits_name(spec.run_id, f"optimizers: label {spec.optimizer_label[:30]!r}: its run "
                  "folder", RUN_FOLDER_RESERVE)
    return specs


def expand(config: SuiteConfig) -> list[RunSpec]:
    """The runs known before training: every cell at its recipe on every seed (dataset x
    arch x GAN x optimizer x seed, one budget), and for a study every trial on every seed."""
    cells = _cells(config)
    specs = [replace(cell, seed=seed) for cell in cells for seed in config.seeds_of(cell.cell)]
    if config.search is not None:
        specs += [_with_trial(cell, TRIAL_PHASE, i, setting, seed) for cell in cells
                  for i, setting in enumerate(config.trial_settings(cell.optimizer.name))
                  for seed in config.seeds]
    return _fitting(specs)


def expand_reruns(
    config: SuiteConfig, best: dict[tuple, tuple[int, dict[str, float | int]]]
) -> list[RunSpec]:
    """A study's reruns: each cell's best trial (``best``: cell -> (trial, setting)) on the
    fresh ``rerun_seeds``."""
    return _fitting([_with_trial(cell, RERUN_PHASE, *best[cell.cell], seed)
                     for cell in _cells(config) if cell.cell in best
                     for seed in config.rerun_seeds])
