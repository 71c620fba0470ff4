"""Exact Wasserstein-1 (earth mover's) distance between two point clouds, via POT.

This is the ground-truth sample quality on 2-D data that the critic's estimate is compared
with. It is the W1 between the two *empirical* measures, so it is biased upwards for finite
N (roughly as N^(-1/2) in 2-D): compare values computed with the same N only.
"""

import numpy as np
from scipy.spatial.distance import cdist
from torch import Tensor


def _as_float64(x: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.float64)


def wasserstein1(x: Tensor | np.ndarray, y: Tensor | np.ndarray) -> float:
    """Exact W1 between uniform empirical measures on ``x`` [N, d] and ``y`` [M, d]."""
    import ot  # here, not at import: POT takes ~0.8 s to import, and a suite refused on
    # input (the metric registry is read to check it) never needs it

    a, b = _as_float64(x), _as_float64(y)
    cost = cdist(a, b)  # direct differences: exact zeros where POT's expansion leaves ~1e-9
    # empty weight lists mean uniform weights; the default iteration cap is too low for
    # a few thousand points and would return a non-optimal plan with a warning
    return float(ot.emd2([], [], cost, numItermax=10_000_000))
