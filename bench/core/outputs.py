"""Every quantity a run records or the report derives, declared once: which direction is
better, the values it can take, its words in figures and tables, and where TensorBoard shows
it.

Three kinds of output share the table: what a registered metric computes (declared in
bench/metrics/declarations.py, which takes these declarations by name), what the evaluator
records from the critic and the trainer records (losses, throughput, budget counters), and
what the report and the gate derive from the runs (the divergence rate). The tables, figures,
TensorBoard export, gate, claims and studies read direction, range and words from here.

It imports no torch and no registry, so the suite's checks and the gate can read it without
loading the training stack.

Adding a metric: its outputs here, then as bench/metrics/declarations.py says.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.stats.ranges import CORRELATION, NONNEGATIVE, UNBOUNDED, UNIT, Range, counts

LOWER, HIGHER = "lower", "higher"
DIRECTIONS = (LOWER, HIGHER)

METRIC, CRITIC, TRAINING, DERIVED = "metric", "critic", "training", "derived"
"""Who writes an output: a registered metric, the evaluator from the critic on held-out
samples, the trainer, or the report and the gate from the runs' rows."""

OTHER_GROUP = "metrics"
"""The TensorBoard Scalars section of an output that declares none (and of a name that is not
declared, e.g. in an older results folder)."""

QUALITY_BETTER = LOWER
"""A run's quality (``quality_outputs``) is a distance to the data: the studies rank trials by
it with a diverged run as +inf, and the correlations read rho > 0 as an estimate tracking it,
so a quality output must be lower-better (``declare`` refuses another)."""

# the names readers of results look up
DIVERGENCE_ESTIMATE = "divergence_estimate"
CRITIC_LOSS = "critic_loss"
ADAM_COSINE = "critic_adam_cosine"
TRAIN_SECONDS = "train_seconds"
THROUGHPUT = "gen_steps_per_s"
"""The throughput runs are compared by (the gate's ratio check, the tables' column)."""
DIVERGENCE_RATE = "divergence_rate"
"""Diverged seeds / seeds of a cell (the gate's check, the divergence table)."""
GENERATOR_LOSS = "generator_loss"
PENALTY = "penalty"
CRITIC_STEPS = "critic_steps"
REAL_SAMPLES = "real_samples"
GRADIENT_EVALUATIONS = "gradient_evaluations"
EVAL_SECONDS = "eval_seconds"
CRITIC_THROUGHPUT = "critic_steps_per_s"
SAMPLE_THROUGHPUT = "samples_per_s"
"""The trainer's other quantities, by the names it records them under."""

RangeOf = Range | Callable[[Any], Range]
"""An output's range, or a function of the dataset (``bench.data.Dataset``, a layer above
this one) that gives it."""


def _mode_counts(dataset: Any) -> Range:
    """0 .. the dataset's number of modes."""
    return counts(dataset.modes.n_modes)


@dataclass(frozen=True)
class Curve:
    """An output's figure over training: mean over seeds with its interval band."""

    title: str
    stem: str
    """The file: ``plots/<stem>_vs_step.png`` (and ``_vs_time.png``)."""
    vs_time: bool = False
    """Drawn against training wall-clock too, not only the generator step."""


@dataclass(frozen=True)
class Output:
    """One scalar quantity (a tidy row's ``metric``, or a statistic derived from the runs)."""

    name: str
    better: str | None
    """``lower`` or ``higher`` is better; None for a quantity that is not a quality (a
    sample count, a standard error, the critic's own estimate, a loss, a throughput, a
    counter)."""
    range: RangeOf = UNBOUNDED
    """The values it can take: intervals over seeds stay inside it."""
    source: str = METRIC
    """Who writes it (``METRIC``, ``CRITIC``, ``TRAINING`` or ``DERIVED``)."""
    label: str = ""
    """Its words in figures and in ``list`` (default: its name)."""
    heading: str | None = None
    """Its column heading in the report's tables, which show the outputs in declaration
    order; None: not in the tables."""
    headline: bool = False
    """Also in report.md's table (tables/<dataset>.md has every column)."""
    group: str = OTHER_GROUP
    """The TensorBoard Scalars section its curves are shown in."""
    hparams_outcome: bool = False
    """Its final value is one of a run's outcome columns in TensorBoard's HParams."""
    quality: bool = False
    """A distance to the data that can stand for a run's quality; a run's quality is the
    first one it records, in declaration order (``quality_outputs``)."""
    final_figure: bool = False
    """In the report's figure of final values per GAN and optimizer."""
    curve: "Curve | None" = None
    """Its curve over training in the report's Plots section (drawn when a run records
    it); None: no curve."""

    @property
    def words(self) -> str:
        return self.label or self.name


OUTPUTS: dict[str, Output] = {}
"""Every declared output by name, in declaration order. Read it through the functions below
(a test swaps the whole table)."""


def declare(output: Output) -> Output:
    """Add ``output`` to the table; one that cannot work fails when it is declared."""
    if output.name in OUTPUTS:
        raise ValueError(f"output {output.name!r} is declared twice")
    if output.better not in (*DIRECTIONS, None):
        raise ValueError(f"output {output.name!r} has direction {output.better!r}; use "
                         f"{LOWER}, {HIGHER} or None")
    if output.source not in (METRIC, CRITIC, TRAINING, DERIVED):
        raise ValueError(f"output {output.name!r}: unknown source {output.source!r}")
    if output.quality and output.better != QUALITY_BETTER:
        raise ValueError(f"output {output.name!r}: a quality output is a distance, "
                         f"{QUALITY_BETTER} is better")
    OUTPUTS[output.name] = output
    return output


def is_declared(name: str) -> bool:
    return name in OUTPUTS


def output(name: str) -> Output:
    """The declaration of ``name`` (a ValueError naming the declared ones if there is none)."""
    if name not in OUTPUTS:
        raise ValueError(f"{name!r} is not a declared output; declared: {', '.join(OUTPUTS)}")
    return OUTPUTS[name]


def better(name: str) -> str | None:
    """Which direction of ``name`` is better (``lower``/``higher``), None if neither."""
    return output(name).better


def outputs_from(source: str) -> tuple[Output, ...]:
    """The outputs ``source`` writes, in declaration order."""
    return tuple(o for o in OUTPUTS.values() if o.source == source)


def checkpoint_outputs() -> tuple[str, ...]:
    """Every quantity the evaluator can record at a checkpoint (what a gate may judge): the
    critic's and the metrics' outputs."""
    return tuple(o.name for o in (*outputs_from(CRITIC), *outputs_from(METRIC)))


def final_figure_outputs() -> tuple[Output, ...]:
    """The outputs of the report's final-values figure, in declaration order."""
    return tuple(o for o in OUTPUTS.values() if o.final_figure)


def curve_outputs() -> tuple[Output, ...]:
    """The outputs the report draws as curves over training, in declaration order."""
    return tuple(o for o in OUTPUTS.values() if o.curve is not None)


def table_outputs(headline: bool = False) -> tuple[Output, ...]:
    """The report tables' columns in display order; ``headline``: report.md's only."""
    return tuple(o for o in OUTPUTS.values()
                 if o.heading is not None and (o.headline or not headline))


def quality_outputs() -> tuple[str, ...]:
    """The quality distances in order of preference."""
    return tuple(o.name for o in OUTPUTS.values() if o.quality)


def hparams_outcomes() -> tuple[str, ...]:
    """The outputs whose final values are a run's HParams outcomes in TensorBoard."""
    return tuple(o.name for o in OUTPUTS.values() if o.hparams_outcome)


def tensorboard_group(name: str) -> str:
    """The Scalars section of ``name`` (``OTHER_GROUP`` for a name not declared)."""
    return OUTPUTS[name].group if is_declared(name) else OTHER_GROUP


def with_direction(text: str, name: str) -> str:
    """``text`` with the direction ``name`` declares better, e.g. 'FID (lower is better)'."""
    direction = better(name)
    return f"{text} ({direction} is better)" if direction else text


def plot_label(name: str) -> str:
    """``name``'s words in a figure with the direction that is better (a name not declared,
    e.g. in an older results folder, as it is)."""
    return with_direction(OUTPUTS[name].words, name) if is_declared(name) else name


# The table. Declaration order is the report tables' column order and the order in which a
# run's quality is chosen; the critic's two are in the order the evaluator computes them.
for _declared in (
    Output("w1", LOWER, NONNEGATIVE, label="exact W1 to real data", heading="W1",
           headline=True, group="quality", hparams_outcome=True, quality=True,
           final_figure=True, curve=Curve("Sample quality (exact W1)", "w1", vs_time=True)),
    Output("fid", LOWER, NONNEGATIVE, label="FID", heading="FID", headline=True,
           group="quality", hparams_outcome=True, quality=True,
           curve=Curve("FID", "fid", vs_time=True)),
    Output("fid_n", None, NONNEGATIVE, label="samples FID was computed on"),
    Output("kid", LOWER, label="KID", heading="KID", group="quality", hparams_outcome=True),
    Output("kid_std", None, NONNEGATIVE, label="KID's standard deviation over subsets"),
    Output("is", HIGHER, NONNEGATIVE, label="Inception Score", heading="IS", group="quality",
           hparams_outcome=True, curve=Curve("Inception Score", "is", vs_time=True)),
    Output("is_std", None, NONNEGATIVE, label="Inception Score's standard deviation over "
           "splits"),
    Output("fd_digits", LOWER, NONNEGATIVE,
           label="Frechet distance, digits-CNN features", heading="FD digits-CNN",
           headline=True, group="quality", hparams_outcome=True, quality=True,
           curve=Curve("Frechet distance (digits CNN)", "fd_digits", vs_time=True)),
    Output("modes_captured", HIGHER, _mode_counts, label="modes captured",
           heading="modes captured", headline=True, group="modes", hparams_outcome=True,
           final_figure=True, curve=Curve("Modes captured", "modes")),
    Output("modes_well_captured", HIGHER, _mode_counts, label="modes with >= 10% share",
           heading="modes >=10% share", group="modes"),
    Output("hq_fraction", HIGHER, UNIT, label="high-quality sample fraction",
           heading="high-quality fraction", group="modes", hparams_outcome=True,
           final_figure=True),
    Output("reverse_kl_hq", LOWER, NONNEGATIVE,
           label="reverse KL of high-quality samples (nats)",
           heading="reverse KL of HQ samples (nats)", group="quality"),
    Output("reverse_kl", LOWER, NONNEGATIVE, label="reverse KL (nats)",
           heading="reverse KL (nats)", group="quality"),
    Output("precision", HIGHER, UNIT, heading="precision", headline=True, group="quality",
           hparams_outcome=True),
    Output("recall", HIGHER, UNIT, heading="recall", headline=True, group="quality",
           hparams_outcome=True),
    Output("density", HIGHER, NONNEGATIVE, heading="density", group="quality",
           hparams_outcome=True),
    Output("coverage", HIGHER, UNIT, heading="coverage", group="quality",
           hparams_outcome=True),
    # differences of critic values: unbounded
    Output("critic_gap", None, source=CRITIC,
           label="E[D(real)] - E[D(fake)] on held-out samples", group="critic"),
    Output(DIVERGENCE_ESTIMATE, None, source=CRITIC, label="critic's divergence estimate",
           heading="critic estimate", group="critic",
           curve=Curve("Critic's divergence estimate", "estimate")),
    Output(ADAM_COSINE, None, CORRELATION, TRAINING,
           label="Adam runs: mean cos(-Adam step, gradient) of the critic (WGAN Sec. 4.2)",
           group="critic"),
    Output(CRITIC_LOSS, None, source=TRAINING,
           label="the critic's loss, mean since the last checkpoint", group="loss"),
    Output("generator_loss", None, source=TRAINING,
           label="the generator's loss, mean since the last checkpoint", group="loss"),
    Output("penalty", None, NONNEGATIVE, TRAINING,
           label="the critic's gradient penalty, mean since the last checkpoint",
           group="loss"),
    Output(THROUGHPUT, None, NONNEGATIVE, TRAINING,
           label="generator steps per second of training", heading="gen steps/s",
           group="throughput"),
    Output("critic_steps_per_s", None, NONNEGATIVE, TRAINING,
           label="critic steps per second of training", group="throughput"),
    Output("samples_per_s", None, NONNEGATIVE, TRAINING,
           label="real samples per second of training", group="throughput"),
    Output("critic_steps", None, NONNEGATIVE, TRAINING, label="budget counter: critic updates",
           group="counters"),
    Output("real_samples", None, NONNEGATIVE, TRAINING,
           label="budget counter: real samples the critic's gradients drew", group="counters"),
    Output("gradient_evaluations", None, NONNEGATIVE, TRAINING,
           label="budget counter: critic and generator gradients computed, extrapolations "
           "included"),
    Output(TRAIN_SECONDS, None, NONNEGATIVE, TRAINING,
           label="training time (s), evaluation excluded", heading="train s",
           group="counters"),
    Output("eval_seconds", None, NONNEGATIVE, TRAINING, label="evaluation time (s)",
           group="counters"),
    Output(DIVERGENCE_RATE, LOWER, UNIT, DERIVED, label="diverged seeds / seeds"),
):
    declare(_declared)
