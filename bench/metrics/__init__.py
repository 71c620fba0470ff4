"""Metrics, each split into features -> statistics -> scalar where that applies."""

from bench.metrics.frechet import frechet_distance
from bench.metrics.knn_manifold import (
    DensityCoverage,
    PrecisionRecall,
    density_coverage,
    knn_distances,
    knn_radii,
    precision_recall,
)
from bench.metrics.modes import ModeCoverage, mode_coverage
from bench.metrics.wasserstein import wasserstein1

__all__ = [
    "DensityCoverage",
    "ModeCoverage",
    "PrecisionRecall",
    "density_coverage",
    "frechet_distance",
    "knn_distances",
    "knn_radii",
    "mode_coverage",
    "precision_recall",
    "wasserstein1",
]
