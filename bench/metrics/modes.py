"""Mode counting: on Gaussian mixtures (VEEGAN / PacGAN's 2-D protocol) and on classified
images (PacGAN's Stacked-MNIST protocol).

Mixtures: a sample is *high quality* when it lies within ``threshold`` standard deviations of
its nearest mode; a mode is *captured* when it is the nearest mode of at least one
high-quality sample; the reverse KL is over the high-quality samples' mode histogram. The
published protocol uses 2,500 samples per evaluation.

Classified images: every channel is classified on its own and the digits name the mode
(100 * d0 + 10 * d1 + d2 for three channels); the reverse KL is over all samples' mode
histogram.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class ModeCoverage:
    modes_captured: int
    """Modes that are the nearest mode of at least one high-quality sample."""
    modes_well_captured: int
    """Modes holding at least ``min_share`` of the uniform share of high-quality samples."""
    high_quality_fraction: float
    """Fraction of samples within ``threshold`` std of their nearest mode."""
    reverse_kl: float
    """KL(high-quality samples' mode histogram || uniform) in nats; NaN with no HQ sample."""
    n_samples: int
    n_modes: int


def _as_tensor(x: Tensor | np.ndarray) -> Tensor:
    return x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))


def mode_coverage(
    samples: Tensor | np.ndarray,
    centers: Tensor | np.ndarray,
    std: float,
    threshold: float = 3.0,
    min_share: float = 0.1,
) -> ModeCoverage:
    """Mode coverage of ``samples`` [N, d] against mixture ``centers`` [M, d] of std ``std``."""
    x = _as_tensor(samples).double()
    c = _as_tensor(centers).to(x.device).double()
    n, m = x.shape[0], c.shape[0]
    dist = torch.cdist(x, c)  # [N, M]
    nearest_dist, nearest = dist.min(dim=1)
    high_quality = nearest_dist <= threshold * std
    counts = torch.bincount(nearest[high_quality], minlength=m).cpu().numpy()
    n_hq = int(counts.sum())
    if n_hq:
        p = counts / n_hq
        nz = p > 0
        reverse_kl = float(np.sum(p[nz] * np.log(p[nz] * m)))
    else:
        reverse_kl = math.nan
    well = int(np.sum(counts >= max(1.0, min_share * n_hq / m))) if n_hq else 0
    return ModeCoverage(
        modes_captured=int(np.count_nonzero(counts)),
        modes_well_captured=well,
        high_quality_fraction=n_hq / n if n else math.nan,
        reverse_kl=reverse_kl,
        n_samples=n,
        n_modes=m,
    )


@dataclass(frozen=True)
class ClassModes:
    modes_captured: int
    """Class tuples assigned to at least one sample."""
    reverse_kl: float
    """KL(all samples' mode histogram || uniform over ``n_modes``), in nats."""
    n_samples: int
    n_modes: int


def class_modes(labels: Tensor, classes: int = 10) -> ClassModes:
    """Modes of samples whose channels were classified: ``labels`` int [N, C], one class in
    0..classes-1 per channel; mode = the labels read as a base-``classes`` number."""
    if labels.ndim != 2 or labels.shape[0] == 0:
        raise ValueError(f"expected labels [N, channels] with N >= 1, got {tuple(labels.shape)}")
    n, channels = labels.shape
    place = classes ** torch.arange(channels - 1, -1, -1, device=labels.device)
    n_modes = classes**channels
    counts = torch.bincount((labels.long() * place).sum(1), minlength=n_modes).double()
    p = counts[counts > 0] / n
    return ClassModes(modes_captured=int((counts > 0).sum()),
                      reverse_kl=float((p * (p * n_modes).log()).sum()),
                      n_samples=n, n_modes=n_modes)
