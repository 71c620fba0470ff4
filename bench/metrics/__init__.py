"""Metrics, each split into features -> statistics -> scalar where that applies."""

from bench.metrics.frechet import frechet_distance
from bench.metrics.modes import ModeCoverage, mode_coverage
from bench.metrics.wasserstein import wasserstein1

__all__ = ["ModeCoverage", "frechet_distance", "mode_coverage", "wasserstein1"]
