"""The metric registry: every checkpoint metric is one registered function.

A metric reads the features one extractor made of a member's generated samples, compares
them with the real side's features or statistics (``Reference``), and returns named scalars
(the tidy rows' ``metric`` names, its ``outputs``). Its protocol name states its protocol
(``w1_n500``, ``fid10k``, ``pr_k3_digits_n2500``, ...) and is recorded in each run's config,
so two numbers are only compared when their protocols match.

Extractors (``bench.features.extractors``): ``points`` (the 2-D samples themselves),
``digits`` / ``digit_labels`` (the digits classifier's features / per-channel classes),
``inception`` (pytorch-fid's pool3 features, only when ``eval.fid_samples`` > 0) and
``inception_logits`` (the same network's logits of torch-fidelity's input, for IS). A metric
whose extractor is ``best`` uses Inception when it is there, else the dataset's own
extractor. Statistics: ``FeatureStats`` (mean, covariance), mode histograms, k-NN radii.

A metric's outputs are declared in the output table (``bench.core.outputs``: direction,
range, words, where the report and TensorBoard show them), by name here. A range may depend on
the dataset, as a mode count's does; intervals over seeds stay inside it (``output_range``).
Each metric declares the ``EvalSpec`` field that sets its sample count and the fewest samples
it can compute on (``min_samples``): a suite giving it fewer is refused before anything is
written.

Adding a metric: its outputs in bench/core/outputs.py, one ``@register`` function here, its
name in the datasets' ``metrics`` it applies to (bench/data/datasets.py), and a test.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from torch import Tensor

from bench.core.outputs import CRITIC, METRIC, Output, is_declared, output, outputs_from
from bench.core.outputs import better as better  # re-exported: bench.config.suite reads it here
from bench.core.specs import EvalSpec
from bench.data.datasets import ClassifierModes, Dataset, MixtureModes
from bench.metrics.extractor_names import BEST, EXTRACTORS
from bench.metrics.feature_stats import FeatureStats
from bench.metrics.frechet import FrechetReference
from bench.metrics.inception_score import SPLITS as IS_SPLITS
from bench.metrics.inception_score import inception_score
from bench.metrics.kid import kernel_inception_distance
from bench.metrics.knn_manifold import density_coverage, knn_distances, precision_recall
from bench.metrics.modes import class_modes, mode_coverage
from bench.metrics.wasserstein import wasserstein1
from bench.stats import UNBOUNDED, Range

PR_K = 3
"""Kynkaanniemi et al. 2019's k."""
DC_K = 5
"""Naeem et al. 2020's k."""


@dataclass
class Reference:
    """The real side of one extractor: features of real samples (fresh for 2-D data, a fixed
    subset of the reference split for images) and, for images, the whole split's Frechet
    statistics. The evaluator makes a new one at each checkpoint for fresh samples and keeps
    one for a fixed subset, so statistics of the features are computed once either way."""

    features: Tensor
    frechet: FrechetReference | None = None
    _memo: dict[str, Any] = field(default_factory=dict)

    def statistic(self, name: str, compute: Callable[[Tensor], Any]) -> Any:
        """``compute(features)``, computed on the first call for ``name`` only."""
        if name not in self._memo:
            self._memo[name] = compute(self.features)
        return self._memo[name]


@dataclass(frozen=True)
class MetricInput:
    fake: Tensor
    """The extractor's output for the member's first ``Metric.samples`` generated samples."""
    reference: Reference | None
    """None for a metric of the generated samples alone (``Metric.needs_reference``)."""
    dataset: Dataset
    spec: EvalSpec


@dataclass(frozen=True)
class Metric:
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
    compute: Callable[[MetricInput], dict[str, float]]
    needs_reference: bool = True
    """False for a metric of the generated samples alone (the Inception Score): no real
    features are extracted for it."""

    def samples(self, spec: EvalSpec) -> int:
        """Generated samples it needs under ``spec`` (0: the metric is off)."""
        return getattr(spec, self.samples_field)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)


METRICS: dict[str, Metric] = {}
CRITIC_OUTPUTS = outputs_from(CRITIC)
"""What the evaluator itself records from the critic on held-out real samples."""
_EVAL_FIELDS = tuple(f.name for f in fields(EvalSpec))


def output_names() -> tuple[str, ...]:
    """Every checkpoint quantity the evaluator can record (what a gate may judge)."""
    every = [*CRITIC_OUTPUTS, *(o for m in METRICS.values() for o in m.outputs)]
    return tuple(dict.fromkeys(o.name for o in every))


def _written_on(name: str, dataset: Dataset) -> bool:
    """Whether a registered metric of ``dataset`` writes the output ``name``."""
    return any(name in METRICS[m].output_names for m in dataset.metrics if m in METRICS)


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


def register(name: str, outputs: tuple[str, ...], extractor: str, samples_field: str,
             protocol: Callable[[EvalSpec, str], str], min_samples: int = 1,
             needs_reference: bool = True):
    """Register the decorated ``compute(MetricInput) -> {output: value}`` as metric ``name``
    writing the declared ``outputs`` (bench.core.outputs); a name, output, extractor or sample
    field that cannot work fails at import time."""
    if name in METRICS:
        raise ValueError(f"metric {name!r} is registered twice")
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

    def wrap(compute: Callable[[MetricInput], dict[str, float]]):
        METRICS[name] = Metric(name, declared, extractor, samples_field, min_samples, protocol,
                               compute, needs_reference)
        return compute
    return wrap


def _count(n: int) -> str:
    """10000 -> '10k', 2500 -> 'n2500': the protocol's sample count."""
    return f"{n // 1000}k" if n % 1000 == 0 else f"_n{n}"


@register("w1", ("w1",), "points", "w1_samples", lambda spec, _: f"w1_n{spec.w1_samples}")
def exact_w1(x: MetricInput) -> dict[str, float]:
    """Exact W1 (POT) between the generated and as many real samples."""
    return {"w1": wasserstein1(x.fake, x.reference.features[: len(x.fake)])}


@register("mixture_modes",
          ("modes_captured", "modes_well_captured", "hq_fraction", "reverse_kl_hq"), "points",
          "samples", lambda spec, _: f"modes_n{spec.samples}_{spec.hq_threshold:g}sd")
def mixture_modes(x: MetricInput) -> dict[str, float]:
    """VEEGAN/PacGAN mode coverage against the mixture's centres."""
    modes = x.dataset.modes
    assert isinstance(modes, MixtureModes)
    cov = mode_coverage(x.fake, x.fake.new_tensor(modes.centers), modes.std,
                        x.spec.hq_threshold, x.spec.min_share)
    return {"modes_captured": cov.modes_captured, "modes_well_captured": cov.modes_well_captured,
            "hq_fraction": cov.high_quality_fraction, "reverse_kl_hq": cov.reverse_kl}


@register("classifier_modes", ("modes_captured", "reverse_kl"), "digit_labels", "samples",
          lambda spec, _: f"modes_n{spec.samples}")
def classifier_modes(x: MetricInput) -> dict[str, float]:
    """PacGAN's Stacked-MNIST mode count: classes of every channel name the mode."""
    modes = x.dataset.modes
    assert isinstance(modes, ClassifierModes)
    counted = class_modes(x.fake, modes.classes)
    return {"modes_captured": counted.modes_captured, "reverse_kl": counted.reverse_kl}


def frechet_to(features: Tensor, reference: FrechetReference) -> float:
    """Frechet distance of ``features``' Gaussian statistics (streamed in float64 on their
    device) to ``reference``: FID with Inception features, fd_digits with the classifier's."""
    stats = FeatureStats(device=features.device)
    stats.update(features)
    return reference.distance(stats.mean(), stats.covariance())


def _frechet(x: MetricInput) -> float:
    assert x.reference is not None and x.reference.frechet is not None
    return frechet_to(x.fake, x.reference.frechet)


@register("fd_digits", ("fd_digits",), "digits", "samples",
          lambda spec, _: f"fd_digits_n{spec.samples}", min_samples=2)
def fd_digits(x: MetricInput) -> dict[str, float]:
    """Frechet distance in the digits classifier's feature space (offline FID stand-in)."""
    return {"fd_digits": _frechet(x)}


@register("fid", ("fid", "fid_n"), "inception", "fid_samples",
          lambda spec, _: f"fid{_count(spec.fid_samples)}", min_samples=2)
def fid(x: MetricInput) -> dict[str, float]:
    """FID: Frechet distance of pool3 features to the reference split's statistics."""
    return {"fid": _frechet(x), "fid_n": len(x.fake)}


@register("inception_score", ("is", "is_std"), "inception_logits", "fid_samples",
          lambda spec, _: f"is{_count(spec.fid_samples)}_tfidelity_u8_{IS_SPLITS}splits",
          min_samples=IS_SPLITS, needs_reference=False)
def inception_score_metric(x: MetricInput) -> dict[str, float]:
    """Inception Score, torch-fidelity's protocol (bench/metrics/inception_score.py), on the
    logits of the FID samples fed as torch-fidelity feeds them (8-bit, TF1 resize)."""
    score = inception_score(x.fake)
    return {"is": score.mean, "is_std": score.std}


@register("kid", ("kid", "kid_std"), "inception", "fid_samples",
          lambda spec, _: f"kid{_count(spec.fid_samples)}", min_samples=2)
def kid(x: MetricInput) -> dict[str, float]:
    """KID (unbiased, cubic kernel, 100 subsets of up to 1,000) against the fixed real subset."""
    result = kernel_inception_distance(x.fake, x.reference.features)
    return {"kid": result.mean, "kid_std": result.std}


def _real_side(x: MetricInput) -> tuple[Tensor, Tensor]:
    """As many real features as fake ones, and their squared distances to their PR_K and
    DC_K nearest neighbours: computed once per reference for both k-NN metrics."""
    n, k = len(x.fake), max(PR_K, DC_K)
    knn = x.reference.statistic(f"knn_k{k}_n{n}",
                                lambda real: knn_distances(real[:n], k, squared=True))
    return x.reference.features[:n], knn


@register("precision_recall", ("precision", "recall"), BEST, "samples",
          lambda spec, extractor: f"pr_k{PR_K}_{extractor}_n{spec.samples}",
          min_samples=PR_K + 1)
def improved_precision_recall(x: MetricInput) -> dict[str, float]:
    """Kynkaanniemi et al. 2019, k = 3, against as many real samples."""
    real, knn = _real_side(x)
    result = precision_recall(real, x.fake, PR_K, real_knn_squared=knn)
    return {"precision": result.precision, "recall": result.recall}


@register("density_coverage", ("density", "coverage"), BEST, "samples",
          lambda spec, extractor: f"dc_k{DC_K}_{extractor}_n{spec.samples}",
          min_samples=DC_K + 1)
def density_and_coverage(x: MetricInput) -> dict[str, float]:
    """Naeem et al. 2020, k = 5, against as many real samples."""
    real, knn = _real_side(x)
    result = density_coverage(real, x.fake, DC_K, real_knn_squared=knn)
    return {"density": result.density, "coverage": result.coverage}
