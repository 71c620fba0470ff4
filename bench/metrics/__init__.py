"""Metrics, each split into features -> statistics -> scalar where that applies."""

from bench.metrics.modes import ModeCoverage, mode_coverage
from bench.metrics.wasserstein import wasserstein1

__all__ = ["ModeCoverage", "mode_coverage", "wasserstein1"]
