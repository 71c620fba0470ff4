"""Typed, validated configuration: suite YAML -> SuiteConfig -> RunSpecs.

Everything a run needs is resolved here, before anything is written: unknown names, bad
types, unknown keys and impossible budgets raise one BenchError that says what is wrong and
what is valid.
"""

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bench.data.toy import TOY_DATASETS
from bench.errors import BenchError
from gan_zoo.recipes import RECIPE_FIELDS, Recipe, recipe_for
from gan_zoo.registry import GANS

SUITES_DIR = Path(__file__).parent / "suites"
BUDGET_KINDS = ("generator_steps", "critic_steps", "real_samples", "seconds")
OPTIMIZERS = ("adam", "rmsprop", "sgd")


@dataclass(frozen=True)
class Budget:
    """The one budget every run of a suite shares."""

    kind: str
    """One of generator_steps, critic_steps, real_samples (real samples seen by the critic),
    seconds (training wall-clock, evaluation excluded)."""
    amount: int | float
    """An integer count, or seconds."""

    def __str__(self) -> str:
        return f"{self.kind}={self.amount:g}"


@dataclass(frozen=True)
class OptimizerChoice:
    """One entry of a suite's optimizer axis; unset fields come from each GAN's recipe."""

    name: str
    label: str
    lr: float | None = None
    betas: tuple[float, float] | None = None


@dataclass(frozen=True)
class OptimizerSpec:
    """A fully resolved optimizer, used for both networks."""

    name: str
    lr: float
    betas: tuple[float, float]
    """Adam's betas (unused by RMSProp and SGD, which use torch's defaults)."""


@dataclass(frozen=True)
class ModelSpec:
    """MLP generator and critic for 2-D data."""

    width: int = 512
    """Hidden units per layer (512 in the WGAN-GP toy code)."""
    depth: int = 3
    """Hidden layers (3 in the WGAN-GP toy code)."""
    latent_dim: int = 2
    """Generator input dimension (2 in the WGAN-GP toy code)."""


@dataclass(frozen=True)
class EvalSpec:
    """What is measured at checkpoints, and on how many samples."""

    every: int = 500
    """Generator steps between checkpoints (one also runs at step 0 and at the end)."""
    samples: int = 2500
    """Generated samples for mode coverage (2,500 is the VEEGAN/PacGAN protocol)."""
    w1_samples: int = 1000
    """Generated and fresh real samples for exact W1 (its cost grows as N^3)."""
    critic_samples: int = 2500
    """Held-out real and generated samples for the critic's estimate."""
    hq_threshold: float = 3.0
    """A sample is high quality within this many std of its nearest mode."""
    min_share: float = 0.1
    """A mode is well captured with at least this share of its uniform count."""


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
    eval: EvalSpec = field(default_factory=EvalSpec)
    recipes: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    """Per-GAN recipe overrides, as sorted (gan, ((field, value), ...)) pairs."""
    seed_batch: int = 8
    """At most this many seeds of one configuration train together as one batched model."""

    def recipe_overrides(self, gan: str) -> dict[str, Any]:
        return dict(dict(self.recipes).get(gan, ()))

    def to_dict(self) -> dict[str, Any]:
        """A YAML-ready dict that ``parse_suite`` reads back into an equal config."""
        d = asdict(self)
        d["budget"] = {self.budget.kind: self.budget.amount}
        d["optimizers"] = [
            {k: v for k, v in asdict(o).items() if v is not None} for o in self.optimizers
        ]
        for o in d["optimizers"]:
            if "betas" in o:
                o["betas"] = list(o["betas"])
        d["datasets"], d["gans"], d["seeds"] = (
            list(self.datasets),
            list(self.gans),
            list(self.seeds),
        )
        d["recipes"] = {gan: dict(items) for gan, items in self.recipes}
        return d


@dataclass(frozen=True)
class RunSpec:
    """Everything one training run needs; its id names its folder in the results store."""

    suite: str
    dataset: str
    gan: str
    optimizer_label: str
    optimizer: OptimizerSpec
    recipe: Recipe
    seed: int
    budget: Budget
    batch_size: int
    model: ModelSpec
    eval: EvalSpec

    @property
    def run_id(self) -> str:
        return f"{self.dataset}__{self.gan}__{self.optimizer_label}__s{self.seed}"

    @property
    def group_key(self) -> tuple:
        """Runs with equal keys differ only in seed and can train as one batched model."""
        return (self.dataset, self.gan, self.optimizer_label)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["run_id"] = self.run_id
        return d


# --- parsing ---------------------------------------------------------------------------


def _fail(where: str, message: str) -> BenchError:
    return BenchError(f"{where}: {message}")


def _check_keys(raw: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; valid: {', '.join(allowed)}")


def _number(value: Any, where: str, *, integer: bool = False, positive: bool = True) -> Any:
    ok_types = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_types):
        kind = "an integer" if integer else "a number"
        raise _fail(where, f"expected {kind}, got {value!r}")
    if positive and value <= 0:
        raise _fail(where, f"must be > 0, got {value!r}")
    return value


def _names(value: Any, valid: dict | tuple, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _fail(where, f"expected a non-empty list of names, got {value!r}")
    for name in value:
        if name not in valid:
            raise _fail(where, f"unknown name '{name}'; valid: {', '.join(valid)}")
    if len(set(value)) != len(value):
        raise _fail(where, f"duplicate names in {value}")
    return tuple(value)


def _dataclass_from(cls: type, raw: Any, where: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise _fail(where, f"expected a mapping, got {raw!r}")
    names = tuple(f.name for f in fields(cls))
    _check_keys(raw, names, where)
    defaults = cls()
    values = {}
    for key, value in raw.items():
        default = getattr(defaults, key)
        integer = isinstance(default, int)
        values[key] = _number(value, f"{where}.{key}", integer=integer)
    return replace(defaults, **values)


def parse_budget(raw: Any, where: str = "budget") -> Budget:
    """``{kind: amount}`` with exactly one kind from BUDGET_KINDS and a positive amount."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise _fail(where, f"give exactly one of {', '.join(BUDGET_KINDS)}, e.g. "
                    "'generator_steps: 1000'")
    (kind, amount), = raw.items()
    if kind not in BUDGET_KINDS:
        raise _fail(where, f"unknown budget '{kind}'; valid: {', '.join(BUDGET_KINDS)}")
    _number(amount, f"{where}.{kind}", integer=kind != "seconds")
    return Budget(kind, float(amount) if kind == "seconds" else int(amount))


def _parse_optimizer(raw: Any, where: str) -> OptimizerChoice:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict) or "name" not in raw:
        raise _fail(where, f"expected an optimizer name or a mapping with 'name', got {raw!r}")
    _check_keys(raw, ("name", "label", "lr", "betas"), where)
    name = raw["name"]
    if name not in OPTIMIZERS:
        raise _fail(where, f"unknown optimizer '{name}'; valid: {', '.join(OPTIMIZERS)}")
    lr = _number(raw["lr"], f"{where}.lr") if "lr" in raw else None
    betas = None
    if "betas" in raw:
        b = raw["betas"]
        if (
            not isinstance(b, list)
            or len(b) != 2
            or not all(isinstance(v, int | float) and 0 <= v < 1 for v in b)
        ):
            raise _fail(f"{where}.betas", f"expected two numbers in [0, 1), got {b!r}")
        betas = (float(b[0]), float(b[1]))
    label = raw.get("label", name)
    if not isinstance(label, str) or not label.replace("-", "").replace("_", "").isalnum():
        raise _fail(f"{where}.label", f"use letters, digits, '-' or '_', got {label!r}")
    return OptimizerChoice(name, label, lr, betas)


def _parse_seeds(raw: Any) -> tuple[int, ...]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        _number(raw, "seeds", integer=True)
        return tuple(range(raw))
    if isinstance(raw, list) and raw and all(isinstance(s, int) and s >= 0 for s in raw):
        if len(set(raw)) != len(raw):
            raise _fail("seeds", f"duplicate seeds in {raw}")
        return tuple(raw)
    raise _fail("seeds", f"expected a count or a list of non-negative integers, got {raw!r}")


def _parse_recipes(raw: Any, gans: tuple[str, ...]) -> tuple:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail("recipes", f"expected a mapping gan -> overrides, got {raw!r}")
    out = []
    for gan, overrides in sorted(raw.items()):
        if gan not in GANS:
            raise _fail("recipes", f"unknown GAN '{gan}'; valid: {', '.join(GANS)}")
        if not isinstance(overrides, dict):
            raise _fail(f"recipes.{gan}", f"expected a mapping, got {overrides!r}")
        _check_keys(overrides, RECIPE_FIELDS, f"recipes.{gan}")
        checked = dict(overrides)
        for key, value in overrides.items():
            if key == "optimizer" and value not in OPTIMIZERS:
                raise _fail(f"recipes.{gan}.optimizer", f"valid: {', '.join(OPTIMIZERS)}")
            if key == "betas":
                checked[key] = tuple(value)
            if key == "warmup" and not isinstance(value, bool):
                raise _fail(f"recipes.{gan}.warmup", f"expected true/false, got {value!r}")
            if key in ("lr", "clip_value", "gp_weight"):
                _number(value, f"recipes.{gan}.{key}")
            if key == "n_critic":
                _number(value, f"recipes.{gan}.{key}", integer=True)
        out.append((gan, tuple(sorted(checked.items()))))
    return tuple(out)


SUITE_KEYS = tuple(f.name for f in fields(SuiteConfig))


def parse_suite(raw: Any, source: str = "suite") -> SuiteConfig:
    """Validate a suite mapping (as loaded from YAML) into a SuiteConfig."""
    if not isinstance(raw, dict):
        raise BenchError(f"{source}: a suite must be a YAML mapping, got {type(raw).__name__}")
    _check_keys(raw, SUITE_KEYS, source)
    for key in ("name", "datasets", "gans", "optimizers", "seeds", "budget"):
        if key not in raw:
            raise BenchError(f"{source}: missing required key '{key}'")
    name = raw["name"]
    if not isinstance(name, str) or not name:
        raise BenchError(f"{source}: 'name' must be a non-empty string")
    optimizers = raw["optimizers"]
    if not isinstance(optimizers, list) or not optimizers:
        raise BenchError(f"{source}: 'optimizers' must be a non-empty list")
    choices = tuple(_parse_optimizer(o, f"optimizers[{i}]") for i, o in enumerate(optimizers))
    labels = [c.label for c in choices]
    if len(set(labels)) != len(labels):
        raise BenchError(f"{source}: optimizer labels must be unique, got {labels}; add 'label'")
    gans = _names(raw["gans"], GANS, "gans")
    config = SuiteConfig(
        name=name,
        description=str(raw.get("description", "")),
        datasets=_names(raw["datasets"], TOY_DATASETS, "datasets"),
        gans=gans,
        optimizers=choices,
        seeds=_parse_seeds(raw["seeds"]),
        budget=parse_budget(raw["budget"]),
        batch_size=_number(raw.get("batch_size", 256), "batch_size", integer=True),
        model=_dataclass_from(ModelSpec, raw.get("model"), "model"),
        eval=_dataclass_from(EvalSpec, raw.get("eval"), "eval"),
        recipes=_parse_recipes(raw.get("recipes"), gans),
        seed_batch=_number(raw.get("seed_batch", 8), "seed_batch", integer=True),
    )
    return config


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
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        detail = str(exc).replace("\n", " ")
        raise BenchError(f"{path}: malformed YAML: {detail}") from None
    return parse_suite(raw, str(path))


def with_overrides(
    config: SuiteConfig, *, seeds: int | None = None, budget: Budget | None = None
) -> SuiteConfig:
    """The suite with the CLI's seed count and budget applied."""
    if seeds is not None:
        config = replace(config, seeds=_parse_seeds(seeds))
    if budget is not None:
        config = replace(config, budget=budget)
    return config


def _resolve_optimizer(choice: OptimizerChoice, recipe: Recipe) -> OptimizerSpec:
    return OptimizerSpec(
        name=choice.name,
        lr=choice.lr if choice.lr is not None else recipe.lr,
        betas=choice.betas if choice.betas is not None else recipe.betas,
    )


def expand(config: SuiteConfig) -> list[RunSpec]:
    """All runs of the suite: dataset x GAN x optimizer x seed, sharing one budget."""
    specs = []
    for dataset in config.datasets:
        for gan in config.gans:
            recipe = recipe_for(gan, "toy", config.recipe_overrides(gan))
            for choice in config.optimizers:
                for seed in config.seeds:
                    specs.append(
                        RunSpec(
                            suite=config.name,
                            dataset=dataset,
                            gan=gan,
                            optimizer_label=choice.label,
                            optimizer=_resolve_optimizer(choice, recipe),
                            recipe=recipe,
                            seed=seed,
                            budget=config.budget,
                            batch_size=config.batch_size,
                            model=config.model,
                            eval=config.eval,
                        )
                    )
    return specs
