"""Typed, validated configuration: suite YAML -> SuiteConfig -> RunSpecs.

Everything a run needs is resolved here, before anything is written: unknown names, bad
types, unknown keys and impossible budgets raise one BenchError that says what is wrong and
what is valid.
"""

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bench.data import DATASET_DOMAINS
from bench.errors import BenchError
from gan_zoo.architectures.dcgan import CRITIC_NORMS, IMAGE_ARCHS
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
class ImageModelSpec:
    """DCGAN-family generator and critic for image datasets."""

    arch: str = "dcgan"
    """dcgan, dcgan-wgangp, dcgan-nobn-g or mlp-g (see gan_zoo/architectures/dcgan.py)."""
    latent_dim: int = 100
    """Generator input dimension (100 in the WGAN and DCGAN reference code)."""
    filters: int = 64
    """Filters of the layer nearest the image (ngf = ndf in the reference code)."""
    critic_norm: str = "auto"
    """batch, layer, none, or auto: layer norm with a gradient penalty (batch norm makes the
    per-sample penalty invalid), batch norm otherwise."""


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
    fid_samples: int = 0
    """Generated images for FID/KID (0: no FID). FID needs the pytorch-fid Inception weights
    (--fid-weights); 10,000 is the usual protocol."""
    fid_reference: str = "train"
    """The real split FID/KID and fd_digits compare with: train (the usual choice) or test."""


@dataclass(frozen=True)
class ClaimsSpec:
    """Thresholds of the claims report's verdict rules (the rules are in bench/analysis)."""

    alpha: float = 0.05
    """Significance level of each one-sided seed comparison (Mann-Whitney U)."""
    min_seeds: int = 3
    """Finished seeds a compared group needs; fewer makes a check inconclusive."""
    min_effect: float = 0.33
    """|Cliff's delta| a significant difference must also reach (0.33: a medium effect)."""
    median_window: int = 3
    """Odd number of checkpoints in the median filter on minus the training critic loss."""
    min_checkpoints: int = 5
    """Checkpoints a run needs for its estimate-quality rank correlation."""
    min_rho: float = 0.5
    """An estimate tracks quality when the CI of its mean Spearman rho lies above this."""
    pile_tolerance: float = 0.01
    """A critic weight is piled at +-c when | |w| - c | <= pile_tolerance * c."""
    min_pile_fraction: float = 0.2
    """Clipping piles weights when the CI of the piled fraction lies above this."""
    flat_decades: float = 1.0
    """The penalty's per-layer gradient norms are flat when the CI of their span over layers
    (max - min of log10 norm) lies below this many decades."""


@dataclass(frozen=True)
class DiagnosticsSpec:
    """The critic diagnostics experiment (bench/diagnostics/critic_experiment.py)."""

    critic_steps: int = 1000
    """Critic steps per trained critic, against the fixed generator."""
    seeds: int = 3
    """Critics per setting (seed-batched); the gradient-norm claim compares them."""
    width: int = 512
    """Hidden units per layer of the diagnostic critics."""
    depth: int = 12
    """Hidden layers of the gradient-norm critic (12 in the WGAN-GP paper's Fig. 1b)."""
    batch_size: int = 256
    """Real and noisy samples per critic step."""
    gp_weight: float = 10.0
    """Gradient penalty weight lambda (the paper's default)."""


@dataclass(frozen=True)
class MetricGate:
    """How ``compare`` judges one final metric of a (dataset, GAN, optimizer) cell."""

    better: str
    """"higher" (modes_captured, hq_fraction) or "lower" (w1, reverse_kl)."""
    margin: float
    """The smallest worsening of the mean over seeds that counts: in the metric's units, or a
    fraction of the baseline mean's magnitude when ``relative``."""
    relative: bool = False


@dataclass(frozen=True)
class Gates:
    """Regression thresholds of ``run_bench.py compare`` (the rule is in bench/compare.py)."""

    metrics: tuple[tuple[str, MetricGate], ...]
    """Gated final metrics, as sorted (name, gate) pairs."""
    alpha: float = 0.05
    """Family-wise false-alarm rate of one comparison: the seed tests of every gated metric and
    every cell's divergence rate are Holm-corrected together at this level."""
    divergence_margin: float = 0.25
    """Smallest increase of a cell's divergence rate (diverged / seeds) that counts."""
    min_throughput_ratio: float = 0.67
    """A cell's throughput regresses when candidate / baseline generator steps per second is
    below this ratio."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metrics"] = {name: asdict(gate) for name, gate in self.metrics}
        return d


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
    seed_batch: int = 8
    """At most this many seeds of one configuration train together as one batched model."""
    gates: Gates | None = None
    """Regression thresholds for ``compare`` (the optional ``gates:`` section)."""
    claims: ClaimsSpec = field(default_factory=ClaimsSpec)
    """Thresholds of the claims report (the optional ``claims:`` section)."""
    diagnostics: DiagnosticsSpec | None = None
    """The critic diagnostics experiment: ``diagnostics: true`` or a mapping of overrides
    runs it after training; absent or false, it does not run."""

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
        if self.gates is None:
            del d["gates"]  # an optional section: absent, not null
        else:
            d["gates"] = self.gates.to_dict()
        if self.diagnostics is None:
            del d["diagnostics"]
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
    image_model: ImageModelSpec
    eval: EvalSpec

    @property
    def domain(self) -> str:
        """"toy" or "image": which models, recipes and metrics apply."""
        return DATASET_DOMAINS[self.dataset]

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
    if value < 0:
        raise _fail(where, f"must be >= 0, got {value!r}")
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


NON_NEGATIVE = ("fid_samples",)  # fields where 0 means "off"


def _dataclass_from(
    cls: type, raw: Any, where: str, choices: dict[str, tuple[str, ...]] | None = None
) -> Any:
    choices = choices or {}
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
        if isinstance(default, str):
            valid = choices.get(key, ())
            if value not in valid:
                raise _fail(f"{where}.{key}", f"got {value!r}; valid: {', '.join(valid)}")
            values[key] = value
            continue
        integer = isinstance(default, int)
        values[key] = _number(value, f"{where}.{key}", integer=integer,
                              positive=key not in NON_NEGATIVE)
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


def _bounded(value: Any, where: str, low: float, high: float, *, low_open: bool) -> float:
    """A number in (low, high] when ``low_open``, else in [low, high]."""
    _number(value, where, positive=False)
    if value < low or value > high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise _fail(where, f"must be in {bracket}{low:g}, {high:g}], got {value!r}")
    return float(value)


def _parse_gates(raw: Any) -> Gates | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail("gates", f"expected a mapping, got {raw!r}")
    _check_keys(raw, tuple(f.name for f in fields(Gates)), "gates")
    metrics = raw.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        raise _fail("gates.metrics", "expected a mapping metric -> {better, margin, relative}, "
                    f"e.g. {{w1: {{better: lower, margin: 0.1}}}}, got {metrics!r}")
    gated = []
    for name, gate in sorted(metrics.items()):
        where = f"gates.metrics.{name}"
        if not isinstance(gate, dict) or "margin" not in gate:
            raise _fail(where, f"expected a mapping with better and margin, got {gate!r}")
        _check_keys(gate, tuple(f.name for f in fields(MetricGate)), where)
        if gate.get("better") not in ("higher", "lower"):
            raise _fail(f"{where}.better", f"expected higher or lower, got {gate.get('better')!r}")
        relative = gate.get("relative", False)
        if not isinstance(relative, bool):
            raise _fail(f"{where}.relative", f"expected true/false, got {relative!r}")
        margin = _bounded(gate["margin"], f"{where}.margin", 0, float("inf"), low_open=False)
        gated.append((str(name), MetricGate(gate["better"], margin, relative)))
    return Gates(
        metrics=tuple(gated),
        alpha=_bounded(raw.get("alpha", Gates.alpha), "gates.alpha", 0, 0.5, low_open=True),
        divergence_margin=_bounded(raw.get("divergence_margin", Gates.divergence_margin),
                                   "gates.divergence_margin", 0, 1, low_open=False),
        min_throughput_ratio=_bounded(raw.get("min_throughput_ratio", Gates.min_throughput_ratio),
                                      "gates.min_throughput_ratio", 0, 1, low_open=True),
    )


def _parse_claims(raw: Any) -> ClaimsSpec:
    spec = _dataclass_from(ClaimsSpec, raw, "claims")
    for key in ("alpha", "min_effect", "min_rho", "pile_tolerance", "min_pile_fraction"):
        _bounded(getattr(spec, key), f"claims.{key}", 0, 0.5 if key == "alpha" else 1,
                 low_open=True)
    if spec.median_window % 2 == 0:
        raise _fail("claims.median_window", f"must be odd, got {spec.median_window}")
    for key, least in (("min_seeds", 2), ("min_checkpoints", 3)):
        if getattr(spec, key) < least:
            raise _fail(f"claims.{key}", f"must be >= {least}, got {getattr(spec, key)}")
    return spec


def _parse_diagnostics(raw: Any) -> DiagnosticsSpec | None:
    if raw is None or raw is False:
        return None
    return DiagnosticsSpec() if raw is True else _dataclass_from(
        DiagnosticsSpec, raw, "diagnostics")


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
        datasets=_names(raw["datasets"], DATASET_DOMAINS, "datasets"),
        gans=gans,
        optimizers=choices,
        seeds=_parse_seeds(raw["seeds"]),
        budget=parse_budget(raw["budget"]),
        batch_size=_number(raw.get("batch_size", 256), "batch_size", integer=True),
        model=_dataclass_from(ModelSpec, raw.get("model"), "model"),
        image_model=_dataclass_from(
            ImageModelSpec, raw.get("image_model"), "image_model",
            {"arch": tuple(IMAGE_ARCHS), "critic_norm": ("auto", *CRITIC_NORMS)},
        ),
        eval=_dataclass_from(EvalSpec, raw.get("eval"), "eval",
                             {"fid_reference": ("train", "test")}),
        recipes=_parse_recipes(raw.get("recipes"), gans),
        seed_batch=_number(raw.get("seed_batch", 8), "seed_batch", integer=True),
        gates=_parse_gates(raw.get("gates")),
        claims=_parse_claims(raw.get("claims")),
        diagnostics=_parse_diagnostics(raw.get("diagnostics")),
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
            recipe = recipe_for(gan, DATASET_DOMAINS[dataset], config.recipe_overrides(gan))
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
                            image_model=config.image_model,
                            eval=config.eval,
                        )
                    )
    return specs
