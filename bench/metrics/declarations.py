"""Every checkpoint metric declared without torch: its protocol name, the outputs it writes, the
``EvalSpec`` field that sets its sample count, the fewest samples it can be computed on, and the
extractor it reads.

The suite's checks read these (a suite giving a metric fewer samples than it needs is refused
before torch is imported); ``bench/metrics/registry.py`` implements each one, registering its
function against the declaration by name.

A protocol name states the protocol (``w1_n500``, ``fid10k``, ``pr_k3_digits_n2500``, ...) and
is recorded in each run's config, so two numbers are only compared when their protocols match.
A metric's outputs are declared in the output table (``bench.core.outputs``: direction, range,
words, where the report and TensorBoard show them), by name here.

Extractors (``bench.features.extractors``): ``points`` (the 2-D samples themselves),
``digits`` / ``digit_labels`` (the digits classifier's features / per-channel classes),
``inception`` (pytorch-fid's pool3 features, only when ``eval.fid_samples`` > 0) and
``inception_logits`` (the same network's logits of torch-fidelity's input, for IS). A metric
whose extractor is ``best`` uses Inception when it is there, else the dataset's own extractor.

Adding a metric: its outputs in bench/core/outputs.py, one ``declare`` call here, its function
in bench/metrics/registry.py, its name in the datasets' ``metrics`` it applies to
(bench/data/datasets.py), and a test.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields

from bench.core.outputs import METRIC, Output, is_declared, output
from bench.core.specs import EvalSpec
from bench.data.datasets import Dataset
from bench.metrics.extractor_names import (
    BEST,
    DIGIT_LABELS,
    DIGITS,
    EXTRACTORS,
    INCEPTION,
    INCEPTION_LOGITS,
    POINTS,
)
from bench.metrics.inception_score import SPLITS as IS_SPLITS
from bench.stats.ranges import UNBOUNDED, Range

PR_K = 3
"""Kynkaanniemi et al. 2019's k."""
DC_K = 5
"""Naeem et al. 2020's k."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric as a suite and a run's config know it."""

    name: str
    outputs: tuple[Output, ...]
    """The rows it writes."""
    extractor: str
    samples_field: str
    """The ``EvalSpec`` field giving the generated samples it needs (0: the metric is off)."""
    min_samples: int
    """The fewest samples it can be computed on."""
    protocol: Callable[[EvalSpec, str], str]
    """(EvalSpec, extractor used) -> protocol name."""
    needs_reference: bool = True
    """False for a metric of the generated samples alone (the Inception Score): no real
    features are extracted for it."""

    def samples(self, spec: EvalSpec) -> int:
        """Generated samples it needs under ``spec`` (0: the metric is off)."""
        return getattr(spec, self.samples_field)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)


METRIC_SPECS: dict[str, MetricSpec] = {}
_EVAL_FIELDS = tuple(f.name for f in fields(EvalSpec))


def declare(name: str, outputs: tuple[str, ...], extractor: str, samples_field: str,
            protocol: Callable[[EvalSpec, str], str], min_samples: int = 1,
            needs_reference: bool = True) -> MetricSpec:
    """Declare metric ``name`` writing the declared ``outputs`` (bench.core.outputs); a name,
    output, extractor or sample field that cannot work fails when it is declared."""
    if name in METRIC_SPECS:
        raise ValueError(f"metric {name!r} is declared twice")
    if extractor not in (*EXTRACTORS, BEST):
        raise ValueError(f"metric {name!r}: unknown extractor {extractor!r}; known: "
                         f"{', '.join((*EXTRACTORS, BEST))}")
    if samples_field not in _EVAL_FIELDS:
        raise ValueError(f"metric {name!r}: {samples_field!r} is not an EvalSpec field")
    declared = tuple(output(o) for o in outputs)
    for o in declared:
        if o.source != METRIC:
            raise ValueError(f"metric {name!r}: output {o.name!r} is written by the {o.source}, "
                             "not by a metric")
    spec = MetricSpec(name, declared, extractor, samples_field, min_samples, protocol,
                      needs_reference)
    METRIC_SPECS[name] = spec
    return spec


def _count(n: int) -> str:
    """10000 -> '10k', 2500 -> 'n2500': the protocol's sample count."""
    return f"{n // 1000}k" if n % 1000 == 0 else f"_n{n}"


declare("w1", ("w1",), POINTS, "w1_samples", lambda spec, _: f"w1_n{spec.w1_samples}")
declare("mixture_modes",
        ("modes_captured", "modes_well_captured", "hq_fraction", "reverse_kl_hq"), POINTS,
        "samples", lambda spec, _: f"modes_n{spec.samples}_{spec.hq_threshold:g}sd")
declare("classifier_modes", ("modes_captured", "reverse_kl"), DIGIT_LABELS, "samples",
        lambda spec, _: f"modes_n{spec.samples}")
declare("fd_digits", ("fd_digits",), DIGITS, "samples",
        lambda spec, _: f"fd_digits_n{spec.samples}", min_samples=2)
declare("fid", ("fid", "fid_n"), INCEPTION, "fid_samples",
        lambda spec, _: f"fid{_count(spec.fid_samples)}", min_samples=2)
declare("inception_score", ("is", "is_std"), INCEPTION_LOGITS, "fid_samples",
        lambda spec, _: f"is{_count(spec.fid_samples)}_tfidelity_u8_{IS_SPLITS}splits",
        min_samples=IS_SPLITS, needs_reference=False)
declare("kid", ("kid", "kid_std"), INCEPTION, "fid_samples",
        lambda spec, _: f"kid{_count(spec.fid_samples)}", min_samples=2)
declare("precision_recall", ("precision", "recall"), BEST, "samples",
        lambda spec, extractor: f"pr_k{PR_K}_{extractor}_n{spec.samples}",
        min_samples=PR_K + 1)
declare("density_coverage", ("density", "coverage"), BEST, "samples",
        lambda spec, extractor: f"dc_k{DC_K}_{extractor}_n{spec.samples}",
        min_samples=DC_K + 1)


def _written_on(name: str, dataset: Dataset) -> bool:
    """Whether a registered metric of ``dataset`` writes the output ``name``."""
    specs = METRIC_SPECS
    return any(name in specs[m].output_names for m in dataset.metrics if m in specs)


def output_range(name: str, dataset: Dataset) -> Range:
    """The range of the output ``name`` on ``dataset``, as its declaration gives it; for a
    metric's output, only where a registered metric of the dataset writes it (a mode count
    has no range on data without modes). Unbounded otherwise, and for a name not declared."""
    if not is_declared(name):
        return UNBOUNDED
    declared = output(name)
    if declared.source == METRIC and not _written_on(name, dataset):
        return UNBOUNDED
    return declared.range if isinstance(declared.range, Range) else declared.range(dataset)
