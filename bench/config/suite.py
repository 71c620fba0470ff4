"""A suite's YAML -> a checked ``SuiteConfig``: where a suite is found, and one parser per
section, each checking names against the torch-free declarations (datasets, GANs,
architectures, metrics, outputs) and values with their validators.

Everything a run needs is resolved before anything is written: unknown names, bad types,
unknown keys and impossible budgets raise one BenchError that says what is wrong and what is
valid. Parsing loads no torch, so a refused suite costs little (tests/benchmarks/
test_bench_refusal.py). The checks across sections are in ``cross_checks.py``, the suite as a
value in ``suite_config.py``, the runs it trains in ``expansion.py``. A suite's ``plugins:``
are imported first (``plugins.py``), so the names they register are checked like built-ins'.
"""

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from bench.config.cross_checks import check_suite
from bench.config.expansion import expand as expand  # re-exported: bench.gate, golden tests
from bench.config.plugins import load_plugins
from bench.config.search_space import parse_search
from bench.config.suite_config import OptimizerChoice, SuiteConfig
from bench.config.suite_yaml import read_yaml
from bench.core.errors import BenchError
from bench.core.hyperparameters import RECIPE_CHECKS, check_exclusive, optimizers_using
from bench.core.outputs import better, checkpoint_outputs
from bench.core.specs import (
    BUDGET_KINDS,
    CRITIC_NORM_AUTO,
    Budget,
    ClaimsSpec,
    DiagnosticsSpec,
    EvalSpec,
    Gates,
    ImageModelSpec,
    MetricGate,
    ModelSpec,
    ParallelLinesSpec,
    RandomArchitecturesSpec,
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
from gan_zoo.architectures.declarations import ACTIVATIONS, CRITIC_NORMS, IMAGE_ARCHS
from gan_zoo.declarations import GAN_SPECS
from gan_zoo.recipes import OPTIMIZER_SETTINGS, OPTIMIZERS, RECIPE_FIELDS, RECIPE_OPTIMIZER

SUITES_DIR = Path(__file__).parent.parent / "suites"
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
    name = Choice((*OPTIMIZERS, RECIPE_OPTIMIZER))(raw["name"], f"{where}.name")
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
    raw = mapping(raw, section, tuple(GAN_SPECS))
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


SUITE_KEYS = tuple(f.name for f in fields(SuiteConfig))
REQUIRED_KEYS = ("name", "datasets", "gans", "optimizers", "seeds", "budget")
SIZES = ("batch_size", "group_size")
"""Optional sizes, checked by their ``SuiteConfig`` field's validator; absent: its default."""
OUT_FOLDER_RESERVE = len("-20250101-120000")
"""The time stamp of the default results folder, ``results/<suite>-<time>``."""


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
    plugins = validator_of(SuiteConfig, "plugins")(raw["plugins"], "plugins") if (
        "plugins" in raw) else ()
    load_plugins(plugins)  # before any name is checked: a plugin's names are valid ones
    config = SuiteConfig(
        name=fits_name(identifier(raw["name"], "name"), "name", OUT_FOLDER_RESERVE),
        description=text(raw.get("description", ""), "description"),
        datasets=names(raw["datasets"], DATASETS, "datasets"),
        gans=names(raw["gans"], GAN_SPECS, "gans"),
        optimizers=_parse_optimizers(raw["optimizers"]),
        seeds=_parse_seeds(raw["seeds"]),
        budget=parse_budget(raw["budget"]),
        model=parse_dataclass(ModelSpec, raw.get("model"), "model"),
        image_model=_parse_image_model(raw.get("image_model")),
        eval=parse_dataclass(EvalSpec, raw.get("eval"), "eval"),
        recipes=_parse_recipes(raw.get("recipes")),
        gates=_parse_gates(raw.get("gates")),
        claims=parse_dataclass(ClaimsSpec, raw.get("claims"), "claims"),
        diagnostics=_parse_experiment(DiagnosticsSpec, raw.get("diagnostics"), "diagnostics"),
        parallel_lines=_parse_experiment(ParallelLinesSpec, raw.get("parallel_lines"),
                                         "parallel_lines"),
        two_gaussians=_parse_experiment(TwoGaussiansSpec, raw.get("two_gaussians"),
                                        "two_gaussians"),
        random_architectures=_parse_random_architectures(raw.get("random_architectures")),
        search=parse_search(raw.get("search")),
        plugins=plugins,
        **{key: validator_of(SuiteConfig, key)(raw[key], key) for key in SIZES if key in raw},
    )
    check_suite(config)
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


def builtin_suites() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SUITES_DIR.glob("*.yaml"))}


def read_suite(name_or_path: str) -> tuple[Any, str]:
    """A built-in suite's YAML by name, or a YAML file's by path, as read (unchecked), and
    where it came from."""
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
    return read_yaml(content, str(path)), str(path)


def load_suite(name_or_path: str) -> SuiteConfig:
    """A built-in suite by name, or a YAML file by path, checked."""
    return parse_suite(*read_suite(name_or_path))


def with_overrides(
    config: SuiteConfig, *, seeds: int | None = None, budget: Budget | None = None
) -> SuiteConfig:
    """The suite with the CLI's seed count and budget applied."""
    if seeds is not None:
        config = replace(config, seeds=_parse_seeds(seeds))
    if budget is not None:
        config = replace(config, budget=budget)
    return config
