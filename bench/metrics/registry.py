"""The metric registry: each metric declared in ``bench.metrics.declarations`` is one function
here, registered against its declaration by name.

A metric reads the features one extractor made of a member's generated samples, compares
them with the real side's features or statistics (``Reference``), and returns named scalars
(the tidy rows' ``metric`` names, its declared outputs). Statistics: ``FeatureStats`` (mean,
covariance), mode histograms, k-NN radii. A range may depend on the dataset, as a mode count's
does; intervals over seeds stay inside it (``declarations.output_range``).

Adding a metric: see bench/metrics/declarations.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from torch import Tensor

from bench.core.outputs import CRITIC, outputs_from
from bench.core.specs import EvalSpec
from bench.data.datasets import ClassifierModes, Dataset, MixtureModes
from bench.metrics import declarations
from bench.metrics.declarations import DC_K, PR_K, MetricSpec
from bench.metrics.feature_stats import FeatureStats
from bench.metrics.frechet import FrechetReference
from bench.metrics.inception_score import inception_score
from bench.metrics.kid import kernel_inception_distance
from bench.metrics.knn_manifold import density_coverage, knn_distances, precision_recall
from bench.metrics.modes import class_modes, mode_coverage
from bench.metrics.wasserstein import wasserstein1


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


@dataclass(frozen=True, kw_only=True)
class Metric(MetricSpec):
    """A declared metric with its function."""

    compute: Callable[[MetricInput], dict[str, float]]


METRICS: dict[str, Metric] = {}
"""Every declared metric's implementation, by name (a test checks that none is missing)."""
CRITIC_OUTPUTS = outputs_from(CRITIC)
"""What the evaluator itself records from the critic on held-out real samples."""


def register(name: str):
    """Register the decorated ``compute(MetricInput) -> {output: value}`` as the function of
    the declared metric ``name`` (bench.metrics.declarations); a name not declared, or
    registered twice, fails at import time."""
    specs = declarations.METRIC_SPECS  # read here: a test swaps the table
    if name not in specs:
        raise ValueError(f"metric {name!r} is not declared in bench/metrics/declarations.py; "
                         f"declared: {', '.join(specs)}")
    if name in METRICS:
        raise ValueError(f"metric {name!r} is registered twice")
    declared = specs[name]

    def wrap(compute: Callable[[MetricInput], dict[str, float]]):
        METRICS[name] = Metric(**{f.name: getattr(declared, f.name) for f in fields(MetricSpec)},
                               compute=compute)
        return compute
    return wrap


@register("w1")
def exact_w1(x: MetricInput) -> dict[str, float]:
    """Exact W1 (POT) between the generated and as many real samples."""
    return {"w1": wasserstein1(x.fake, x.reference.features[: len(x.fake)])}


@register("mixture_modes")
def mixture_modes(x: MetricInput) -> dict[str, float]:
    """VEEGAN/PacGAN mode coverage against the mixture's centres."""
    modes = x.dataset.modes
    assert isinstance(modes, MixtureModes)
    cov = mode_coverage(x.fake, x.fake.new_tensor(modes.centers), modes.std,
                        x.spec.hq_threshold, x.spec.min_share)
    return {"modes_captured": cov.modes_captured, "modes_well_captured": cov.modes_well_captured,
            "hq_fraction": cov.high_quality_fraction, "reverse_kl_hq": cov.reverse_kl}


@register("classifier_modes")
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


@register("fd_digits")
def fd_digits(x: MetricInput) -> dict[str, float]:
    """Frechet distance in the digits classifier's feature space (offline FID stand-in)."""
    return {"fd_digits": _frechet(x)}


@register("fid")
def fid(x: MetricInput) -> dict[str, float]:
    """FID: Frechet distance of pool3 features to the reference split's statistics."""
    return {"fid": _frechet(x), "fid_n": len(x.fake)}


@register("inception_score")
def inception_score_metric(x: MetricInput) -> dict[str, float]:
    """Inception Score, torch-fidelity's protocol (bench/metrics/inception_score.py), on the
    logits of the FID samples fed as torch-fidelity feeds them (8-bit, TF1 resize)."""
    score = inception_score(x.fake)
    return {"is": score.mean, "is_std": score.std}


@register("kid")
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


@register("precision_recall")
def improved_precision_recall(x: MetricInput) -> dict[str, float]:
    """Kynkaanniemi et al. 2019, k = 3, against as many real samples."""
    real, knn = _real_side(x)
    result = precision_recall(real, x.fake, PR_K, real_knn_squared=knn)
    return {"precision": result.precision, "recall": result.recall}


@register("density_coverage")
def density_and_coverage(x: MetricInput) -> dict[str, float]:
    """Naeem et al. 2020, k = 5, against as many real samples."""
    real, knn = _real_side(x)
    result = density_coverage(real, x.fake, DC_K, real_knn_squared=knn)
    return {"density": result.density, "coverage": result.coverage}
