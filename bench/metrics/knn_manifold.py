"""k-NN manifold metrics: precision/recall and density/coverage.

Each sample set estimates its manifold as the union of balls around its samples, the ball
of sample i having radius r_i = distance from i to its k-th nearest neighbour in the same
set (i itself excluded). With N real and M fake samples:

- precision (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
  Generative Models", k = 3): fraction of fake samples inside the real manifold;
- recall (same paper): fraction of real samples inside the fake manifold;
- density (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
  Models", k = 5): (1 / kM) * sum over fake j of the number of real balls containing j;
- coverage (same paper): fraction of real samples whose ball contains at least one fake
  sample, i.e. whose nearest fake sample is closer than r_i.

"Inside a ball" is the strict d(centre, x) < r, as in the authors' reference implementation
(clovaai/generative-evaluation-prdc). Consequences: a set compared with itself has
density exactly 1 (each open ball holds its centre and the k - 1 nearer neighbours, barring
ties), and a sample with k or more exact duplicates has radius 0, an empty ball.

Distances are computed a block of real (or, for radii, same-set) rows at a time against the
whole other set, and each block is reduced at once to what the metrics need (the k smallest
per row; per-sample counts and flags), so memory grows with chunk_size x M, not N x M.
chunk_size changes no result, except that the matrix product may round a block's distances
differently by its shape: a ball test within rounding of a tie could then flip.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

ArrayLike = Tensor | np.ndarray

DEFAULT_CHUNK_SIZE = 1024
"""Rows per distance block: a 1024 x 10,000 float32 block is 41 MB."""


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    """Fraction of fake samples inside the real k-NN manifold."""
    recall: float
    """Fraction of real samples inside the fake k-NN manifold."""
    k: int


@dataclass(frozen=True)
class DensityCoverage:
    density: float
    """Mean number of real balls holding a fake sample, over k; 1 when fake matches real."""
    coverage: float
    """Fraction of real balls holding at least one fake sample."""
    k: int


@dataclass(frozen=True, eq=False)
class Membership:
    """Per-sample ball membership between a real and a fake set, the input to every scalar."""

    real_balls_per_fake: Tensor
    """int64 [M]: how many real balls contain each fake sample (precision, density)."""
    real_ball_has_fake: Tensor
    """bool [N]: whether each real ball contains at least one fake sample (coverage)."""
    real_in_fake_manifold: Tensor | None
    """bool [N]: whether each real sample lies in some fake ball (recall); None without
    fake radii."""


def _as_tensors(*xs: ArrayLike) -> list[Tensor]:
    """Detached tensors on the first non-CPU input's device (numpy arrays start on the CPU),
    in float64 if any input is float64 and float32 otherwise.

    float32 rounding (~1e-7 of the squared feature norms) flips a ball test only at
    near-ties, far below the metrics' sampling noise, and halves the CPU time (GPUs without
    fast float64 gain far more). float64 inputs keep float64.
    """
    ts = [torch.as_tensor(x).detach() for x in xs]
    device = next((t.device for t in ts if t.device.type != "cpu"), torch.device("cpu"))
    wants_f64 = any(t.dtype == torch.float64 for t in ts) and device.type != "mps"  # no MPS f64
    dtype = torch.float64 if wants_f64 else torch.float32
    return [t.to(device=device, dtype=dtype) for t in ts]


def _check_rows(x: Tensor, name: str) -> None:
    if x.ndim != 2:
        raise ValueError(f"{name} features must be [N, D], got shape {tuple(x.shape)}")


def _check_k(k: int, n_rows: int, name: str) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k >= n_rows:
        raise ValueError(
            f"k={k} needs more than k {name} samples (a k-th neighbour besides each sample "
            f"itself), got {n_rows}"
        )


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")


def _real_and_fake(real: ArrayLike, fake: ArrayLike) -> tuple[Tensor, Tensor]:
    r, f = _as_tensors(real, fake)
    _check_rows(r, "real")
    _check_rows(f, "fake")
    if r.shape[1] != f.shape[1]:
        raise ValueError(
            f"real and fake features must have the same D, got {r.shape[1]} and {f.shape[1]}"
        )
    if f.shape[0] == 0:
        raise ValueError("fake features are empty")
    return r, f


def _distance_blocks(x: Tensor, y: Tensor, chunk_size: int) -> Iterator[tuple[int, Tensor]]:
    """Yield (first row, Euclidean distances [rows, len(y)]) for blocks of x's rows.

    |x|^2 + |y|^2 - 2 x.y turns each block into one matrix product; y's squared norms are
    computed once, not per block as torch.cdist would (with a copy of y each time).
    """
    y_sq = y.square().sum(1)
    for start in range(0, x.shape[0], chunk_size):
        block = x[start : start + chunk_size]
        sq = torch.addmm(y_sq, block, y.T, alpha=-2).add_(block.square().sum(1, keepdim=True))
        yield start, sq.clamp_min_(0).sqrt_()  # rounding can leave tiny negative squares


def _knn_radii(x: Tensor, k: int, chunk_size: int) -> Tensor:
    radii = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    for start, dist in _distance_blocks(x, x, chunk_size):
        # Exclude each sample by index, not by distance 0, so duplicates still count.
        dist.diagonal(offset=start).fill_(torch.inf)
        radii[start : start + dist.shape[0]] = dist.topk(k, dim=1, largest=False).values[:, -1]
    return radii


def knn_radii(features: ArrayLike, k: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Tensor:
    """Distance from each row of [N, D] features to its k-th nearest other row: [N].

    Computed ``chunk_size`` rows at a time on the features' device, in float64 for float64
    inputs and float32 otherwise. Needs 1 <= k < N.
    """
    (x,) = _as_tensors(features)
    _check_rows(x, "input")
    _check_k(k, x.shape[0], "input")
    _check_chunk_size(chunk_size)
    return _knn_radii(x, k, chunk_size)


def ball_membership(
    real: Tensor,
    fake: Tensor,
    real_radii: Tensor,
    fake_radii: Tensor | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Membership:
    """Which samples lie in which open balls, from one chunked pass over real x fake distances.

    ``real`` [N, D] and ``fake`` [M, D] share a device and dtype; ``real_radii`` [N] and
    ``fake_radii`` [M] are their ``knn_radii``. Without ``fake_radii`` the recall flags are
    skipped (None).
    """
    balls_per_fake = torch.zeros(fake.shape[0], dtype=torch.int64, device=real.device)
    ball_has_fake = torch.empty(real.shape[0], dtype=torch.bool, device=real.device)
    in_fake_manifold = None if fake_radii is None else torch.empty_like(ball_has_fake)
    for start, dist in _distance_blocks(real, fake, chunk_size):
        rows = slice(start, start + dist.shape[0])
        inside_real_ball = dist < real_radii[rows, None]
        balls_per_fake += inside_real_ball.sum(0)
        ball_has_fake[rows] = inside_real_ball.any(1)
        if in_fake_manifold is not None:
            in_fake_manifold[rows] = (dist < fake_radii).any(1)
    return Membership(balls_per_fake, ball_has_fake, in_fake_manifold)


def _fraction(flags: Tensor) -> float:
    # Integer count over integer size: the exact fraction, correctly rounded once.
    return int(flags.sum()) / flags.numel()


def precision_recall(
    real: ArrayLike, fake: ArrayLike, k: int = 3, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
    real_radii: Tensor | None = None,
) -> PrecisionRecall:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake [M, D] against real
    [N, D] features, with k-NN balls (k = 3 in the paper) and strict ``<`` as in prdc.

    Computed on the first non-CPU input's device (numpy arrays start on the CPU), in float64
    if either input is float64 and float32 otherwise, ``chunk_size`` rows of distances at a
    time (it bounds memory, not the result; see the module docstring). Needs
    1 <= k < min(N, M). ``real_radii`` are ``knn_radii(real, k)`` when the caller has them
    (a fixed real set's radii need computing only once).
    """
    r, f = _real_and_fake(real, fake)
    _check_k(k, r.shape[0], "real")
    _check_k(k, f.shape[0], "fake")
    _check_chunk_size(chunk_size)
    radii = _knn_radii(r, k, chunk_size) if real_radii is None else real_radii.to(r)
    m = ball_membership(r, f, radii, _knn_radii(f, k, chunk_size), chunk_size=chunk_size)
    assert m.real_in_fake_manifold is not None
    return PrecisionRecall(
        precision=_fraction(m.real_balls_per_fake > 0),
        recall=_fraction(m.real_in_fake_manifold),
        k=k,
    )


def density_coverage(
    real: ArrayLike, fake: ArrayLike, k: int = 5, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
    real_radii: Tensor | None = None,
) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020) of fake [M, D] against real [N, D] features,
    with real k-NN balls (k = 5 in the paper) and strict ``<`` as in prdc.

    Device, dtype and chunking as in ``precision_recall``; only real radii are needed, so
    fake may have any M >= 1. Needs 1 <= k < N. ``real_radii`` as in ``precision_recall``.
    """
    r, f = _real_and_fake(real, fake)
    _check_k(k, r.shape[0], "real")
    _check_chunk_size(chunk_size)
    radii = _knn_radii(r, k, chunk_size) if real_radii is None else real_radii.to(r)
    m = ball_membership(r, f, radii, chunk_size=chunk_size)
    return DensityCoverage(
        density=int(m.real_balls_per_fake.sum()) / (k * f.shape[0]),
        coverage=_fraction(m.real_ball_has_fake),
        k=k,
    )
