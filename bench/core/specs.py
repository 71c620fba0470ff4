"""The frozen specs a suite resolves to: what one run trains and measures, and the sections
of a suite that only the report, the claims or the gate read.

The lowest layer of the configuration: no torch, no declarations (datasets, GANs, metrics), no
YAML. ``bench.config.suite`` parses a suite's YAML into these, checking every declared name; the
training stack, the store, the report and the gate take them as plain values. A field's
validator (``field(metadata=checked(...))``) is the one check its values pass wherever they
appear in a suite.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bench.core.hyperparameters import cleared_by, without_batchable
from bench.core.outputs import DIRECTIONS, LOWER
from bench.core.validators import (
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    SHARE,
    SIGNIFICANCE,
    Choice,
    ListOf,
    Number,
    checked,
    fail,
    flag,
    identifier,
)
from gan_zoo.recipes import OPTIMIZER_SETTINGS, OptimizerSettings, Recipe

TOY, IMAGE = "toy", "image"
"""Domains: 2-D points (MLPs, the WGAN-GP toy recipes) or images (DCGANs, image recipes)."""
TOY_ARCH = "mlp"
"""The architecture of every 2-D run: MLPs shaped by the suite's ``model:``."""
BUDGET_KINDS = ("generator_steps", "critic_steps", "real_samples", "gradient_evaluations",
                "seconds")
UPDATE_BUDGETS = ("generator_steps", "critic_steps")
"""Budgets that match updates (an extragradient update costs two gradient evaluations);
``gradient_evaluations`` matches the gradients computed instead."""
CRITIC_NORM_AUTO = "auto"
LINEAR, LOG = "linear", "log"
CHECKPOINT_SCHEDULES = (LINEAR, LOG)

Cell = tuple[str, str, str, str]
"""(dataset, arch, GAN, optimizer label): the runs of one table cell (``RunSpec.cell``)."""
RECIPE_PHASE, TRIAL_PHASE, RERUN_PHASE = "recipe", "trial", "rerun"
"""A study's phases: the paper recipes, the search trials, the best trial on fresh seeds
(plain suites have recipe runs only)."""


def _odd(raw: Any, where: str) -> int:
    value = POSITIVE_INT(raw, where)
    if value % 2 == 0:
        raise fail(where, f"expected an odd integer >= 1, got {value}")
    return value


@dataclass(frozen=True)
class Budget:
    """The one budget every run of a suite shares."""

    kind: str
    """One of generator_steps, critic_steps, real_samples (real samples the critic's gradient
    evaluations drew), gradient_evaluations (critic and generator gradients computed, extrapolations
    included), seconds (training wall-clock, evaluation excluded)."""
    amount: int | float
    """An integer count, or seconds."""

    def __str__(self) -> str:
        return f"{self.kind}={self.amount:g}"

    @property
    def matches(self) -> str:
        """What runs under this budget are matched on: updates, real samples drawn,
        gradient evaluations or training time."""
        if self.kind in UPDATE_BUDGETS:
            return "updates"
        return {"real_samples": "real samples drawn", "seconds": "training time"}.get(
            self.kind, "gradient evaluations")


@dataclass(frozen=True)
class _Algorithm:
    # a base of its own so that the algorithm comes before its settings in the spec's fields
    # (and in a run's config.json)
    name: str
    """One of ``gan_zoo.recipes.OPTIMIZERS``."""


@dataclass(frozen=True)
class OptimizerSpec(OptimizerSettings, _Algorithm):
    """A fully resolved optimizer: its algorithm and every setting, one per network
    (``bench.core.hyperparameters.optimizer_values`` says which setting each network's
    optimizer takes)."""

    @classmethod
    def resolve(cls, recipe: Recipe, name: str | None = None,
                given: Mapping[str, Any] | None = None) -> "OptimizerSpec":
        """The optimizer a run of ``recipe`` trains with: algorithm ``name`` (None: the
        recipe's), the settings ``given`` (a suite's optimizer entry), the recipe's for the
        rest; a given setting unsets those it clears (``lr`` sets both networks' rates)."""
        given = dict(given or {})
        cleared = dict.fromkeys(cleared_by(given))
        settings = {key: getattr(recipe, key) for key in OPTIMIZER_SETTINGS}
        return cls(name=name or recipe.optimizer, **settings | cleared | given)


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
    """DCGAN-family generator and critic for image datasets. ``arch`` and ``critic_norm`` name
    declared architectures and norms: ``bench.config.suite`` checks them."""

    arch: str | tuple[str, ...] = "dcgan"
    """dcgan, dcgan-wgangp, dcgan-nobn-g or mlp-g (see gan_zoo/architectures/dcgan.py); in a
    suite, a list of them makes an architecture axis for the image datasets (each run has
    one)."""
    latent_dim: int = field(default=100, metadata=checked(POSITIVE_INT))
    """Generator input dimension (100 in the WGAN and DCGAN reference code)."""
    filters: int = field(default=64, metadata=checked(POSITIVE_INT))
    """Filters of the layer nearest the image (ngf = ndf in the reference code)."""
    critic_norm: str = CRITIC_NORM_AUTO
    """batch, layer, none, or auto: layer norm with a gradient penalty (batch norm makes the
    per-sample penalty invalid), batch norm otherwise."""


@dataclass(frozen=True)
class EvalSpec:
    """What is measured at checkpoints, and on how many samples."""

    every: int = field(default=500, metadata=checked(POSITIVE_INT))
    """Generator steps between checkpoints (one also runs at step 0 and at the end); with the
    log schedule, the first interval."""
    schedule: str = field(default=LINEAR, metadata=checked(Choice(CHECKPOINT_SCHEDULES)))
    """``linear``: a checkpoint every ``every`` steps; ``log``: at every, 2 every, 4 every, ...
    (log-spaced: more checkpoints early, where quality moves, so a correlation over them is
    not dominated by a plateau)."""
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

    def is_checkpoint(self, step: int) -> bool:
        """Whether generator step ``step`` (>= 1) ends with a checkpoint (step 0 and the end
        always have one)."""
        if self.schedule == LINEAR:
            return step % self.every == 0
        ratio, rest = divmod(step, self.every)
        return rest == 0 and ratio & (ratio - 1) == 0  # every * 2^i

    def checkpoints(self, steps: int) -> int:
        """Checkpoints of a run of ``steps`` generator steps, step 0 and the end included (at
        most: the end may coincide with a scheduled one)."""
        if self.schedule == LINEAR:
            return steps // self.every + 2
        return (steps // self.every).bit_length() + 2

    def describe(self) -> str:
        if self.schedule == LINEAR:
            return f"every {self.every} generator steps"
        return f"at {self.every} x 2^i generator steps (log-spaced)"


@dataclass(frozen=True)
class ClaimsSpec:
    """Thresholds of the claims report's verdict rules (the rules are in bench/analysis)."""

    alpha: float = field(default=0.05, metadata=checked(SIGNIFICANCE))
    """Significance level of each one-sided seed comparison (Mann-Whitney U)."""
    min_seeds: int = field(default=3, metadata=checked(Number(minimum=2, integer=True)))
    """Finished seeds a compared group needs; fewer makes a check inconclusive."""
    min_effect: float = field(default=0.33, metadata=checked(SHARE))
    """The margin of a comparison of seeds: a |Cliff's delta| smaller than this is "no
    effect", and equivalence (the (1 - 2 alpha) interval inside +-min_effect) decides it
    (0.33: a medium effect, Romano et al. 2006)."""
    bound_margin: float = field(default=0.2, metadata=checked(SHARE))
    """The margin of a check against a bound, as a share of |bound|: a mean shown within
    bound_margin x |bound| of the bound is not above (below) it by an effect that counts."""
    paired_margin: float = field(default=0.1, metadata=checked(SHARE))
    """The margin of a paired comparison of success fractions (claim 11): a difference shown
    inside +-paired_margin is no difference."""
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
    """Share of the last checkpoints in the window that tells whether an arm still improves
    (at least 5 checkpoints; bench.stats.trend.improvement)."""
    max_final_change: float = field(default=0.05, metadata=checked(SHARE))
    """An arm still improves when its seeds' slopes over the window are significantly on the
    improving side (one-sided t-test at convergence_alpha) and the mean fitted change over
    the window is at least this share of its value."""
    convergence_alpha: float = field(default=0.05, metadata=checked(SIGNIFICANCE))
    """Level of the still-improving test (fixed: a look's smaller level under
    --until-decided would let moving arms through)."""
    min_quality_change: float = field(default=0.2, metadata=checked(SHARE))
    """A run's estimate-quality correlation needs its quality to move by at least this share
    across the checkpoints correlated (significant Theil-Sen fitted change)."""
    estimate_tolerance: float = field(default=0.2, metadata=checked(SHARE))
    """Parallel lines: a critic's estimate is Example 1's curve when the CI of the mean over
    seeds of its largest distance from the exact value on the theta grid (a WGAN's divided
    by its Lipschitz constant), as a share of the exact value's largest, lies below this."""
    theta_tolerance: float = field(default=0.1, metadata=checked(POSITIVE))
    """Parallel lines: a WGAN has learned theta when final |theta| is below this on every
    seed and start and the CI of its mean lies below it."""
    stall_fraction: float = field(default=0.5, metadata=checked(SHARE))
    """Parallel lines: the minimax GAN's theta stalls when the CI of the mean of
    |theta_T| / |theta_0| lies above this (1: never moved)."""
    gradient_decades: float = field(default=2.0, metadata=checked(POSITIVE))
    """Two Gaussians: "orders of magnitude" is the CI of the mean log10 gap, critic's minus
    discriminator's gradient at the fakes (each over its steepest slope), lying above this
    many decades."""


@dataclass(frozen=True)
class DiagnosticsSpec:
    """The critic diagnostics experiment (bench/experiments/critic_diagnostics.py)."""

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
class ParallelLinesSpec:
    """Learning parallel lines (bench/experiments/parallel_lines.py; WGAN paper, Example 1)."""

    thetas: int = field(default=9, metadata=checked(Number(minimum=2, integer=True)))
    """Points of the theta grid on [-1, 1] for the estimate-vs-theta part."""
    seeds: int = field(default=3, metadata=checked(POSITIVE_INT))
    """Critics (and generators) per setting, seed-batched; the claim compares them."""
    critic_steps: int = field(default=400, metadata=checked(POSITIVE_INT))
    """Critic steps per estimate-vs-theta critic."""
    generator_steps: int = field(default=100, metadata=checked(POSITIVE_INT))
    """Steps of the one-parameter generator, each after ``theta_critic_steps`` critic steps."""
    theta_critic_steps: int = field(default=10, metadata=checked(POSITIVE_INT))
    """Critic steps before each theta step, every GAN alike: each critic near its optimum at
    the current theta, as Example 1's divergences assume (a recipe's single discriminator
    step would leave D far from the JS it stands for)."""
    theta0: float = field(default=1.0, metadata=checked(POSITIVE))
    """Largest |theta_0|: the generator starts at -1, -0.5, 0.5 and 1 times it."""
    width: int = field(default=32, metadata=checked(POSITIVE_INT))
    depth: int = field(default=2, metadata=checked(POSITIVE_INT))
    batch_size: int = field(default=64, metadata=checked(POSITIVE_INT))
    lr: float = field(default=2e-3, metadata=checked(POSITIVE))
    """Learning rate of every GAN's critic (each with its recipe's algorithm). At 1e-3
    penalised critics had not all found W1's slope (estimate / Lipschitz off |theta| by 0.9
    and 1.2 at 2 of 6 seeds after 200 steps, 1 of 6 after 500); at 2e-3 and 400 steps all 6
    had (at 8 seeds one critic died: input gradient 0, left out by the check)."""
    generator_lr: float = field(default=0.02, metadata=checked(POSITIVE))
    """theta's plain-SGD step size, every GAN, in units of its critic's slope at the fakes
    (a WGAN critic then steps theta by at most this: the exact W1's step)."""
    gp_weight: float = field(default=10.0, metadata=checked(POSITIVE))
    """Gradient penalty weight lambda (the paper's default)."""


@dataclass(frozen=True)
class TwoGaussiansSpec:
    """The discriminator vs the critic on two 1-D Gaussians (bench/experiments/two_gaussians.py;
    WGAN paper, Fig. 2)."""

    distance: float = field(default=8.0, metadata=checked(POSITIVE))
    """Distance between the real and the fake mean (real at -distance/2)."""
    std: float = field(default=0.5, metadata=checked(POSITIVE))
    """Standard deviation of both Gaussians."""
    seeds: int = field(default=3, metadata=checked(POSITIVE_INT))
    critic_steps: int = field(default=300, metadata=checked(POSITIVE_INT))
    width: int = field(default=32, metadata=checked(POSITIVE_INT))
    depth: int = field(default=2, metadata=checked(POSITIVE_INT))
    batch_size: int = field(default=64, metadata=checked(POSITIVE_INT))
    lr: float = field(default=1e-3, metadata=checked(POSITIVE))
    """Learning rate of every critic (each with its recipe's algorithm)."""
    gp_weight: float = field(default=10.0, metadata=checked(POSITIVE))


TABLE_2_RECIPES = (("wgan-gp", (("betas", (0.0, 0.9)), ("gp_weight", 10.0))),)
"""The WGAN-GP paper's settings for its Table 2 where the 2-D recipe differs from them."""


@dataclass(frozen=True)
class RandomArchitecturesSpec:
    """Random generator/critic architectures, each trained with every GAN on 2-D data
    (bench/experiments/random_architectures.py; WGAN-GP paper, Table 2). ``dataset`` and
    ``activations`` name declared ones: ``bench.config.suite`` checks them."""

    architectures: int = field(default=40, metadata=checked(POSITIVE_INT))
    """Architectures drawn (the paper: 200); every GAN trains each once."""
    seed: int = field(default=0, metadata=checked(NON_NEGATIVE_INT))
    """Seed of the draw; each architecture's initialisation and data seed are drawn from it,
    so a larger ``architectures`` keeps the first draws."""
    dataset: str = field(default="ring8", metadata=checked(identifier))
    """A registered 2-D dataset."""
    depths: tuple[int, ...] = field(default=(1, 2, 3, 4), metadata=checked(
        ListOf(POSITIVE_INT)))
    """Hidden layers a network may have (drawn for the generator and the critic apart)."""
    widths: tuple[int, ...] = field(default=(16, 32, 64, 128), metadata=checked(
        ListOf(POSITIVE_INT)))
    """Hidden units per layer a network may have."""
    activations: tuple[str, ...] = field(default=("relu", "leakyrelu", "softplus", "tanh"),
                                         metadata=checked(ListOf(identifier)))
    """Hidden activations a network may have (the paper's four)."""
    batch_norm: tuple[bool, ...] = field(default=(False, True), metadata=checked(ListOf(flag)))
    """Whether a network normalises its hidden layers: batch norm, except layer norm in the
    critic of a GAN whose constraint needs per-sample gradients (the paper's choice for
    WGAN-GP)."""
    latent_dim: int = field(default=2, metadata=checked(POSITIVE_INT))
    generator_steps: int = field(default=800, metadata=checked(POSITIVE_INT))
    """Generator steps per run, each after the recipe's critic steps."""
    batch_size: int = field(default=64, metadata=checked(POSITIVE_INT))
    w1_samples: int = field(default=500, metadata=checked(POSITIVE_INT))
    """Generated and fresh real samples for the final exact W1 (reported, not the success)."""
    mode_samples: int = field(default=2500, metadata=checked(POSITIVE_INT))
    """Generated samples whose modes decide success (2,500: the VEEGAN/PacGAN protocol)."""
    hq_threshold: float = field(default=3.0, metadata=checked(POSITIVE))
    """A sample is high quality within this many of the mixture's std of its nearest mode
    (the protocol's 3)."""
    min_share: float = field(default=0.1, metadata=checked(SHARE))
    """A mode is well captured with at least this share of its uniform count of high-quality
    samples (bench.metrics.modes)."""
    success_hq: float = field(default=0.5, metadata=checked(SHARE))
    """A run succeeds when every mode of ``dataset`` is well captured and at least this share
    of its samples is high quality (a diverged run fails). For Gaussian modes, half within
    3 std means generated modes at most 2.55 times as wide as the data's
    (1 - exp(-9 / (2 * 2.55^2)) = 0.5; the data: 0.99); on ring8 a uniform ring through
    the centres puts 7% there, a Gaussian blob over the ring 0.6% (the stand-ins of
    tests/test_random_architectures.py)."""
    recipes: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = TABLE_2_RECIPES
    """Recipe fields per GAN for this experiment, over the suite's recipe for ``dataset``
    (the suite's ``recipes:`` form; ``bench.config.suite`` checks them). The default is Table 2's
    WGAN-GP: the WGAN-GP paper's Algorithm 1 ("We use default values of lambda = 10,
    n_critic = 5, alpha = 0.0001, beta_1 = 0, beta_2 = 0.9"; Sec. 4: "All experiments in this
    paper use lambda = 10"), where the 2-D recipe follows the toy code (lambda 0.1, beta_1
    0.5); the GAN keeps its DCGAN recipe, the paper's baseline."""

    def recipe_overrides(self, gan: str) -> dict[str, Any]:
        """This experiment's recipe fields for ``gan``."""
        return dict(dict(self.recipes).get(gan, ()))

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (lists, not tuples; ``recipes`` a mapping)."""
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        d["recipes"] = {gan: {k: list(v) if isinstance(v, tuple) else v for k, v in items}
                        for gan, items in self.recipes}
        return d


@dataclass(frozen=True)
class MetricGate:
    """How ``compare`` judges one final metric of a (dataset, GAN, optimizer) cell."""

    margin: float = field(default=0.0, metadata=checked(NON_NEGATIVE))
    """The smallest worsening of the mean over seeds that counts: in the metric's units, or a
    fraction of the baseline mean's magnitude when ``relative``."""
    relative: bool = field(default=False, metadata=checked(flag))
    better: str = field(default=LOWER, metadata=checked(Choice(DIRECTIONS)))
    """Which direction is better: the output table's declaration unless the suite's
    ``gates:`` gives another (``overrides`` then says so)."""
    overrides: bool = False
    """``better`` is the suite's, against the output table's declaration."""

    def to_dict(self) -> dict[str, Any]:
        """The YAML form: ``better`` only where the suite set it against the declaration."""
        d = {"margin": self.margin, "relative": self.relative}
        return d | {"better": self.better} if self.overrides else d


@dataclass(frozen=True)
class Gates:
    """Regression thresholds of ``run_bench.py compare`` (the rule is in bench/gate/compare.py)."""

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
        d["metrics"] = {name: gate.to_dict() for name, gate in self.metrics}
        return d





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
    domain: str
    """"toy" or "image" (the dataset's domain): which models, recipes and metrics apply."""
    data_shape: tuple[int, ...]
    """One sample's shape (the dataset's): 2-D runs of one shape may batch across datasets."""
    study: StudyRole = field(default_factory=StudyRole)

    @property
    def arch(self) -> str:
        """The networks: the image architecture, or ``mlp`` for 2-D data."""
        return self.image_model.arch if self.domain == IMAGE else TOY_ARCH

    @property
    def cell(self) -> Cell:
        """The runs of one table cell, as a ``Cell``."""
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
    def batch_key(self) -> "RunSpec":
        """Runs with equal keys can train as one batched model: the spec with what members may
        differ in blanked. Members may differ in seed, label, study role, each batchable
        hyperparameter (``bench.core.hyperparameters``: one value per member) and, for 2-D data,
        the dataset (of one shape); anything else, a field added later included, splits
        groups."""
        blank = replace(without_batchable(self), suite="", seed=0, optimizer_label="",
                        study=StudyRole())
        return blank if self.domain == IMAGE else replace(blank, dataset="")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["run_id"], d["arch"] = self.run_id, self.arch
        d["study"]["params"] = dict(self.study.params)
        return d


