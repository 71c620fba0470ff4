"""Typed, validated configuration: suite YAML -> SuiteConfig -> RunSpecs.

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

from bench.data import DATASETS, IMAGE
from bench.errors import BenchError
from bench.search_space import SearchSpec, draw_trials, parse_search, suite_seed, used_fields
from bench.validators import (
    FRACTION,
    LEARNING_RATE,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    SHARE,
    SIGNIFICANCE,
    Choice,
    Number,
    betas,
    checked,
    fail,
    flag,
    identifier,
    mapping,
    names,
    parse_dataclass,
    text,
    validator_of,
)
from gan_zoo.architectures.dcgan import CRITIC_NORMS, IMAGE_ARCHS
from gan_zoo.recipes import OPTIMIZERS, RECIPE_FIELDS, Recipe, recipe_for
from gan_zoo.registry import GANS

SUITES_DIR = Path(__file__).parent / "suites"
BUDGET_KINDS = ("generator_steps", "critic_steps", "real_samples", "seconds")
TOY_ARCH = "mlp"
"""The architecture of every 2-D run: MLPs shaped by the suite's ``model:``."""
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


def _odd(raw: Any, where: str) -> int:
    value = POSITIVE_INT(raw, where)
    if value % 2 == 0:
        raise fail(where, f"expected an odd integer >= 1, got {value}")
    return value


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
    """adam, rmsprop, sgd, or ``recipe``: each GAN's own recipe optimizer."""
    label: str
    lr: float | None = None
    betas: tuple[float, float] | None = None

    def run_label(self, recipe: Recipe) -> str:
        """The label of this entry's runs of a GAN with ``recipe``: the entry's label, plus
        the optimizer it resolved to for a ``recipe`` entry (e.g. ``recipe-rmsprop``)."""
        if self.name == RECIPE_OPTIMIZER:
            return f"{self.label}-{recipe.optimizer}"
        return self.label

    def resolve(self, recipe: Recipe) -> "OptimizerSpec":
        return OptimizerSpec(
            name=recipe.optimizer if self.name == RECIPE_OPTIMIZER else self.name,
            lr=self.lr if self.lr is not None else recipe.lr,
            betas=self.betas if self.betas is not None else recipe.betas,
        )


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

    width: int = field(default=512, metadata=checked(POSITIVE_INT))
    """Hidden units per layer (512 in the WGAN-GP toy code)."""
    depth: int = field(default=3, metadata=checked(POSITIVE_INT))
    """Hidden layers (3 in the WGAN-GP toy code)."""
    latent_dim: int = field(default=2, metadata=checked(POSITIVE_INT))
    """Generator input dimension (2 in the WGAN-GP toy code)."""


@dataclass(frozen=True)
class ImageModelSpec:
    """DCGAN-family generator and critic for image datasets."""

    arch: str | tuple[str, ...] = field(default="dcgan", metadata=checked(_archs))
    """dcgan, dcgan-wgangp, dcgan-nobn-g or mlp-g (see gan_zoo/architectures/dcgan.py); in a
    suite, a list of them makes an architecture axis for the image datasets (each run has
    one)."""
    latent_dim: int = field(default=100, metadata=checked(POSITIVE_INT))
    """Generator input dimension (100 in the WGAN and DCGAN reference code)."""
    filters: int = field(default=64, metadata=checked(POSITIVE_INT))
    """Filters of the layer nearest the image (ngf = ndf in the reference code)."""
    critic_norm: str = field(default="auto", metadata=checked(Choice(("auto", *CRITIC_NORMS))))
    """batch, layer, none, or auto: layer norm with a gradient penalty (batch norm makes the
    per-sample penalty invalid), batch norm otherwise."""


@dataclass(frozen=True)
class EvalSpec:
    """What is measured at checkpoints, and on how many samples."""

    every: int = field(default=500, metadata=checked(POSITIVE_INT))
    """Generator steps between checkpoints (one also runs at step 0 and at the end)."""
    samples: int = field(default=2500, metadata=checked(POSITIVE_INT))
    """Generated samples for mode coverage (2,500 is the VEEGAN/PacGAN protocol)."""
    w1_samples: int = field(default=1000, metadata=checked(POSITIVE_INT))
    """Generated and fresh real samples for exact W1 (its cost grows as N^3)."""
    critic_samples: int = field(default=2500, metadata=checked(POSITIVE_INT))
    """Held-out real and generated samples for the critic's estimate."""
    hq_threshold: float = field(default=3.0, metadata=checked(POSITIVE))
    """A sample is high quality within this many std of its nearest mode."""
    min_share: float = field(default=0.1, metadata=checked(SHARE))
    """A mode is well captured with at least this share of its uniform count."""
    fid_samples: int = field(default=0, metadata=checked(NON_NEGATIVE_INT))
    """Generated images for FID/KID (0: no FID). FID needs the pytorch-fid Inception weights
    (--fid-weights); 10,000 is the usual protocol."""
    fid_reference: str = field(default="train", metadata=checked(Choice(("train", "test"))))
    """The real split FID/KID and fd_digits compare with: train (the usual choice) or test."""


@dataclass(frozen=True)
class ClaimsSpec:
    """Thresholds of the claims report's verdict rules (the rules are in bench/analysis)."""

    alpha: float = field(default=0.05, metadata=checked(SIGNIFICANCE))
    """Significance level of each one-sided seed comparison (Mann-Whitney U)."""
    min_seeds: int = field(default=3, metadata=checked(Number(minimum=2, integer=True)))
    """Finished seeds a compared group needs; fewer makes a check inconclusive."""
    min_effect: float = field(default=0.33, metadata=checked(SHARE))
    """|Cliff's delta| a significant difference must also reach (0.33: a medium effect)."""
    median_window: int = field(default=3, metadata=checked(_odd))
    """Odd number of checkpoints in the median filter on minus the training critic loss."""
    min_checkpoints: int = field(default=5, metadata=checked(Number(minimum=3, integer=True)))
    """Checkpoints a run needs for its estimate-quality rank correlation."""
    min_rho: float = field(default=0.5, metadata=checked(SHARE))
    """An estimate tracks quality when the CI of its mean Spearman rho lies above this."""
    pile_tolerance: float = field(default=0.01, metadata=checked(SHARE))
    """A critic weight is piled at +-c when | |w| - c | <= pile_tolerance * c."""
    min_pile_fraction: float = field(default=0.2, metadata=checked(SHARE))
    """Clipping piles weights when the CI of the piled fraction lies above this."""
    flat_decades: float = field(default=1.0, metadata=checked(POSITIVE))
    """The penalty's per-layer gradient norms are flat when the CI of their span over layers
    (max - min of log10 norm) lies below this many decades."""
    trend_fraction: float = field(default=1 / 3, metadata=checked(SHARE))
    """Share of the last checkpoints whose Theil-Sen trend tells whether an arm still
    improves (at least 3 checkpoints)."""
    max_final_change: float = field(default=0.05, metadata=checked(SHARE))
    """An arm still improves when the CI of its trend's slope lies on the improving side and
    the fitted change over the trend window is at least this share of its value."""
    min_quality_change: float = field(default=0.2, metadata=checked(SHARE))
    """A run's estimate-quality correlation needs its quality to move by at least this share
    across the checkpoints correlated (significant Theil-Sen fitted change)."""


@dataclass(frozen=True)
class DiagnosticsSpec:
    """The critic diagnostics experiment (bench/diagnostics/critic_experiment.py)."""

    critic_steps: int = field(default=1000, metadata=checked(POSITIVE_INT))
    """Critic steps per trained critic, against the fixed generator."""
    seeds: int = field(default=3, metadata=checked(POSITIVE_INT))
    """Critics per setting (seed-batched); the gradient-norm claim compares them."""
    width: int = field(default=512, metadata=checked(POSITIVE_INT))
    """Hidden units per layer of the diagnostic critics."""
    depth: int = field(default=12, metadata=checked(POSITIVE_INT))
    """Hidden layers of the gradient-norm critic (12 in the WGAN-GP paper's Fig. 1b)."""
    batch_size: int = field(default=256, metadata=checked(POSITIVE_INT))
    """Real and noisy samples per critic step."""
    gp_weight: float = field(default=10.0, metadata=checked(POSITIVE))
    """Gradient penalty weight lambda (the paper's default)."""


@dataclass(frozen=True)
class MetricGate:
    """How ``compare`` judges one final metric of a (dataset, GAN, optimizer) cell."""

    better: str = field(default="lower", metadata=checked(Choice(("higher", "lower"))))
    """"higher" (modes_captured, hq_fraction) or "lower" (w1, reverse_kl_hq)."""
    margin: float = field(default=0.0, metadata=checked(NON_NEGATIVE))
    """The smallest worsening of the mean over seeds that counts: in the metric's units, or a
    fraction of the baseline mean's magnitude when ``relative``."""
    relative: bool = field(default=False, metadata=checked(flag))


@dataclass(frozen=True)
class Gates:
    """Regression thresholds of ``run_bench.py compare`` (the rule is in bench/gate.py)."""

    metrics: tuple[tuple[str, MetricGate], ...] = ()
    """Gated final metrics, as sorted (name, gate) pairs."""
    alpha: float = field(default=0.05, metadata=checked(SIGNIFICANCE))
    """Family-wise false-alarm rate of one comparison: the seed tests of every gated metric and
    every cell's divergence rate are Holm-corrected together at this level."""
    divergence_margin: float = field(default=0.25, metadata=checked(FRACTION))
    """Smallest increase of a cell's divergence rate (diverged / seeds) that counts."""
    min_throughput_ratio: float = field(default=0.67, metadata=checked(SHARE))
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
    group_size: int = 8
    """At most this many seeds of one configuration train together as one batched model."""
    gates: Gates | None = None
    """Regression thresholds for ``compare`` (the optional ``gates:`` section)."""
    claims: ClaimsSpec = field(default_factory=ClaimsSpec)
    """Thresholds of the claims report (the optional ``claims:`` section)."""
    diagnostics: DiagnosticsSpec | None = None
    """The critic diagnostics experiment: ``diagnostics: true`` or a mapping of overrides
    runs it after training; absent or false, it does not run."""
    search: SearchSpec | None = None
    """A hyperparameter study (the optional ``search:`` section): every cell searches the
    same space with the same number of trials, then reruns its best setting on fresh seeds."""

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
        return self.n_cells * per_cell

    @property
    def rerun_seeds(self) -> tuple[int, ...]:
        """Fresh seeds for a study's reruns: the ones after the suite's largest seed."""
        if self.search is None:
            return ()
        first = max(self.seeds) + 1
        return tuple(range(first, first + self.search.rerun_seeds))

    def trial_settings(self) -> list[dict[str, float | int]]:
        """A study's trial settings, drawn reproducibly from the suite's name and search."""
        assert self.search is not None
        identity = json.dumps([self.name, self.search.to_dict()], sort_keys=True)
        return draw_trials(self.search, suite_seed(identity))

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
        d["recipes"] = {gan: {k: list(v) if isinstance(v, tuple) else v for k, v in items}
                        for gan, items in self.recipes}
        if isinstance(self.image_model.arch, tuple):
            d["image_model"]["arch"] = list(self.image_model.arch)
        if self.gates is None:
            del d["gates"]  # an optional section: absent, not null
        else:
            d["gates"] = self.gates.to_dict()
        if self.diagnostics is None:
            del d["diagnostics"]
        if self.search is None:
            del d["search"]
        else:
            d["search"] = self.search.to_dict()
        return d


RECIPE_PHASE, TRIAL_PHASE, RERUN_PHASE = "recipe", "trial", "rerun"
"""A study's phases: the paper recipes, the search trials, the best trial on fresh seeds
(plain suites have recipe runs only)."""


@dataclass(frozen=True)
class StudyRole:
    """What a run is within a hyperparameter study."""

    phase: str = RECIPE_PHASE
    trial: int | None = None
    """The trial's index (for a rerun: the best trial's)."""
    params: tuple[tuple[str, float | int], ...] = ()
    """The searched fields this run's GAN and optimizer use, with the trial's values."""


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
    study: StudyRole = field(default_factory=StudyRole)

    @property
    def domain(self) -> str:
        """"toy" or "image": which models, recipes and metrics apply."""
        return DATASETS[self.dataset].domain

    @property
    def arch(self) -> str:
        """The networks: the image architecture, or ``mlp`` for 2-D data."""
        return self.image_model.arch if self.domain == IMAGE else TOY_ARCH

    @property
    def cell(self) -> tuple[str, str, str, str]:
        """(dataset, arch, GAN, optimizer label): the runs of one table cell."""
        return (self.dataset, self.arch, self.gan, self.optimizer_label)

    @property
    def run_id(self) -> str:
        """``<dataset>[__<arch>]__<gan>__<optimizer>[__t<trial>|__best]__s<seed>``: image runs
        name their architecture (a suite may have several), study runs their trial."""
        setting = self.dataset if self.domain != IMAGE else f"{self.dataset}__{self.arch}"
        role = ""
        if self.study.phase == TRIAL_PHASE:
            role = f"__t{self.study.trial:02d}"
        elif self.study.phase == RERUN_PHASE:
            role = "__best"
        return f"{setting}__{self.gan}__{self.optimizer_label}{role}__s{self.seed}"

    @property
    def batch_key(self) -> tuple:
        """Runs with equal keys can train as one batched model: they may differ in seed, in
        continuous hyperparameters (lr, betas, gradient-penalty weight, clipping bound, each
        member with its own) and, for 2-D data, in the dataset; discrete choices (GAN,
        optimizer algorithm, n_critic, warm-up, architecture, sizes) split groups."""
        data = self.dataset if self.domain == IMAGE else DATASETS[self.dataset].shape
        return (self.domain, data, self.arch, self.gan, self.optimizer.name,
                self.recipe.n_critic, self.recipe.warmup, self.batch_size, self.model,
                self.image_model, self.budget, self.eval)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["run_id"], d["arch"] = self.run_id, self.arch
        d["study"]["params"] = dict(self.study.params)
        return d


# --- reading YAML -------------------------------------------------------------------------


class SuiteLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: ``2e-4`` and ``1E3`` are numbers (YAML
    1.1, which PyYAML follows, reads an exponent without a dot as a string)."""


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
    raw = mapping(raw, where, ("name", "label", "lr", "betas"))
    if "name" not in raw:
        raise fail(where, f"expected an optimizer name or a mapping with 'name', got {raw!r}")
    name = Choice(OPTIMIZER_CHOICES)(raw["name"], f"{where}.name")
    return OptimizerChoice(
        name=name,
        label=identifier(raw.get("label", name), f"{where}.label"),
        lr=LEARNING_RATE(raw["lr"], f"{where}.lr") if "lr" in raw else None,
        betas=betas(raw["betas"], f"{where}.betas") if "betas" in raw else None,
    )


def _parse_optimizers(raw: Any) -> tuple[OptimizerChoice, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("optimizers", "expected a non-empty list of optimizer names or mappings "
                   f"with name / label / lr / betas, got {raw!r}")
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


def _parse_recipes(raw: Any) -> tuple:
    if raw is None:
        return ()
    raw = mapping(raw, "recipes", tuple(GANS))
    out = []
    for gan, overrides in sorted(raw.items()):
        where = f"recipes.{gan}"
        overrides = mapping(overrides, where, RECIPE_FIELDS)
        checked_values = {key: validator_of(Recipe, key)(value, f"{where}.{key}")
                          for key, value in overrides.items()}
        out.append((gan, tuple(sorted(checked_values.items()))))
    return tuple(out)


def _parse_gates(raw: Any) -> Gates | None:
    if raw is None:
        return None
    # here: the metric registry loads the metrics' libraries, which only gates need
    from bench.metrics.registry import output_names

    raw = dict(mapping(raw, "gates", tuple(f.name for f in fields(Gates))))
    metrics = raw.pop("metrics", None)
    if not isinstance(metrics, dict) or not metrics:
        raise fail("gates.metrics", "expected a mapping metric -> {better, margin, relative}, "
                   f"e.g. {{w1: {{better: lower, margin: 0.1}}}}, got {metrics!r}")
    gated = []
    for name, gate in sorted(metrics.items(), key=lambda item: str(item[0])):
        where = f"gates.metrics.{name}"
        Choice(output_names())(name, "gates.metrics")
        gate = mapping(gate, where, tuple(f.name for f in fields(MetricGate)))
        for required in ("better", "margin"):
            if required not in gate:
                raise fail(where, f"missing '{required}'; e.g. {{better: lower, margin: 0.1}}")
        gated.append((name, parse_dataclass(MetricGate, gate, where)))
    return parse_dataclass(Gates, raw, "gates", Gates(metrics=tuple(gated)))


def _parse_diagnostics(raw: Any) -> DiagnosticsSpec | None:
    if raw is None or raw is False:
        return None
    return DiagnosticsSpec() if raw is True else parse_dataclass(
        DiagnosticsSpec, raw, "diagnostics")


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
        name=identifier(raw["name"], "name"),
        description=text(raw.get("description", ""), "description"),
        datasets=names(raw["datasets"], DATASETS, "datasets"),
        gans=names(raw["gans"], GANS, "gans"),
        optimizers=_parse_optimizers(raw["optimizers"]),
        seeds=_parse_seeds(raw["seeds"]),
        budget=parse_budget(raw["budget"]),
        batch_size=POSITIVE_INT(raw.get("batch_size", 256), "batch_size"),
        model=parse_dataclass(ModelSpec, raw.get("model"), "model"),
        image_model=parse_dataclass(ImageModelSpec, raw.get("image_model"), "image_model"),
        eval=parse_dataclass(EvalSpec, raw.get("eval"), "eval"),
        recipes=_parse_recipes(raw.get("recipes")),
        group_size=POSITIVE_INT(raw.get("group_size", 8), "group_size"),
        gates=_parse_gates(raw.get("gates")),
        claims=parse_dataclass(ClaimsSpec, raw.get("claims"), "claims"),
        diagnostics=_parse_diagnostics(raw.get("diagnostics")),
        search=parse_search(raw.get("search")),
    )
    _check_run_labels(config)
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
    params = {k: v for k, v in setting.items()
              if k in used_fields(spec.gan, spec.optimizer.name)}
    recipe_fields = {k: v for k, v in params.items() if k in ("n_critic", "gp_weight",
                                                               "clip_value", "lr")}
    betas = (params.get("beta1", spec.optimizer.betas[0]),
             params.get("beta2", spec.optimizer.betas[1]))
    return replace(
        spec, seed=seed, recipe=replace(spec.recipe, **recipe_fields),
        optimizer=replace(spec.optimizer, lr=params.get("lr", spec.optimizer.lr), betas=betas),
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
                    )
                    for choice in config.optimizers
                )
    return cells


def expand(config: SuiteConfig) -> list[RunSpec]:
    """The runs known before training: every cell at its recipe on every seed (dataset x
    arch x GAN x optimizer x seed, one budget), and for a study every trial on every seed."""
    cells = _cells(config)
    specs = [replace(cell, seed=seed) for cell in cells for seed in config.seeds]
    if config.search is not None:
        specs += [_with_trial(cell, TRIAL_PHASE, i, setting, seed) for cell in cells
                  for i, setting in enumerate(config.trial_settings()) for seed in config.seeds]
    return specs


def expand_reruns(
    config: SuiteConfig, best: dict[tuple, tuple[int, dict[str, float | int]]]
) -> list[RunSpec]:
    """A study's reruns: each cell's best trial (``best``: cell -> (trial, setting)) on the
    fresh ``rerun_seeds``."""
    return [_with_trial(cell, RERUN_PHASE, *best[cell.cell], seed)
            for cell in _cells(config) if cell.cell in best for seed in config.rerun_seeds]
