"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 over random subsets.

Kernel k(x, y) = (x.y / d + 1)^3. Unlike FID, the estimator is unbiased in N, so it can
come out slightly negative when both sets come from the same distribution.
"""

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor


class KID(NamedTuple):
    mean: float
    std: float


def _kernel(x: Tensor, y: Tensor) -> Tensor:
    return (x @ y.T / x.shape[1] + 1) ** 3


def _unbiased_mmd2(x: Tensor, y: Tensor) -> Tensor:
    m = x.shape[0]
    k_xx, k_yy, k_xy = _kernel(x, x), _kernel(y, y), _kernel(x, y)
    # Dropping the diagonals of k_xx and k_yy is what makes the estimator unbiased.
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (
        m * (m - 1)
    )
    return within - 2 * k_xy.mean()


def kernel_inception_distance(
    features_a: Tensor | np.ndarray,
    features_b: Tensor | np.ndarray,
    *,
    subset_size: int = 1000,
    n_subsets: int = 100,
    seed: int = 0,
) -> KID:
    """KID between two (N, d) feature sets: mean and std of MMD^2 over ``n_subsets`` subsets.

    Each subset draws ``min(subset_size, N_a, N_b)`` rows without replacement from each set;
    the draws come from a CPU generator seeded with ``seed``, so they do not depend on the
    device. The std is the population std over subsets, as torch-fidelity reports it.
    """
    a = torch.as_tensor(features_a).detach()
    device = a.device if a.device.type != "mps" else torch.device("cpu")  # no float64 on MPS
    a = a.to(device=device, dtype=torch.float64)
    b = torch.as_tensor(features_b).detach().to(device=device, dtype=torch.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features must be (N, d) with the same d, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    m = min(subset_size, a.shape[0], b.shape[0])
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got subset size {m}")
    if n_subsets < 1:
        raise ValueError(f"n_subsets must be positive, got {n_subsets}")
    gen = torch.Generator().manual_seed(seed)
    estimates = []
    for _ in range(n_subsets):
        idx_a = torch.randperm(a.shape[0], generator=gen)[:m].to(device)
        idx_b = torch.randperm(b.shape[0], generator=gen)[:m].to(device)
        estimates.append(_unbiased_mmd2(a[idx_a], b[idx_b]))
    mmds = torch.stack(estimates)
    return KID(mean=float(mmds.mean()), std=float(mmds.std(correction=0)))
