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
``manifold_scores`` computes all four from three passes (real x real, fake x fake, real x
fake), where the two functions alone would need five.
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


def _squared_distance_blocks(
    x: Tensor, y: Tensor, chunk_size: int
) -> Iterator[tuple[int, Tensor]]:
    """Yield (first row, squared Euclidean distances [rows, len(y)]) for blocks of x's rows.

    |x|^2 + |y|^2 - 2 x.y turns each block into one matrix product; y's squared norms are
    computed once, not per block as torch.cdist would (with a copy of y each time). Balls
    compare squared distances with squared radii (d < r iff d^2 < r^2), so no block is
    square-rooted: only the k nearest distances are.
    """
    y_sq = y.square().sum(1)
    for start in range(0, x.shape[0], chunk_size):
        block = x[start : start + chunk_size]
        sq = torch.addmm(y_sq, block, y.T, alpha=-2).add_(block.square().sum(1, keepdim=True))
        yield start, sq.clamp_min_(0)  # rounding can leave tiny negative squares


def _knn_squared(x: Tensor, k: int, chunk_size: int) -> Tensor:
    """[N, k]: each row's k smallest squared distances to the other rows, ascending."""
    out = torch.empty(x.shape[0], k, dtype=x.dtype, device=x.device)
    for start, sq in _squared_distance_blocks(x, x, chunk_size):
        # Exclude each sample by index, not by distance 0, so duplicates still count.
        sq.diagonal(offset=start).fill_(torch.inf)
        out[start : start + sq.shape[0]] = sq.topk(k, dim=1, largest=False).values
    return out


def knn_distances(features: ArrayLike, k: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  squared: bool = False) -> Tensor:
    """[N, k]: each row's distances (``squared``: their squares, as ``manifold_scores``
    takes them) to its 1st..k-th nearest other rows, ascending. Column j - 1 holds the radii
    of the j-NN balls, so one pass serves every k up to ``k``.

    Computed ``chunk_size`` rows at a time on the features' device, in float64 for float64
    inputs and float32 otherwise. Needs 1 <= k < N.
    """
    (x,) = _as_tensors(features)
    _check_rows(x, "input")
    _check_k(k, x.shape[0], "input")
    _check_chunk_size(chunk_size)
    knn = _knn_squared(x, k, chunk_size)
    return knn if squared else knn.sqrt_()


def knn_radii(features: ArrayLike, k: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Tensor:
    """Distance from each row of [N, D] features to its k-th nearest other row: [N]."""
    return knn_distances(features, k, chunk_size=chunk_size)[:, -1]


def _fraction(flags: Tensor) -> float:
    # Integer count over integer size: the exact fraction, correctly rounded once.
    return int(flags.sum()) / flags.numel()


def _scores(
    r: Tensor, f: Tensor, pr_k: int | None, dc_k: int | None, chunk_size: int,
    real_knn_squared: Tensor | None,
) -> tuple[PrecisionRecall | None, DensityCoverage | None]:
    """Precision/recall with ``pr_k`` and density/coverage with ``dc_k`` (None: skipped)
    from at most three distance passes: real x real (skipped when ``real_knn_squared`` is
    given), fake x fake (recall only) and one real x fake pass for both."""
    n, m = r.shape[0], f.shape[0]
    k_max = max(k for k in (pr_k, dc_k) if k is not None)
    _check_k(k_max, n, "real")
    if pr_k is not None:
        _check_k(pr_k, m, "fake")
    _check_chunk_size(chunk_size)
    knn = (_knn_squared(r, k_max, chunk_size) if real_knn_squared is None
           else real_knn_squared.to(r))
    in_real = torch.zeros(m, dtype=torch.bool, device=r.device)  # fake j in a real PR ball
    in_fake = torch.empty(n, dtype=torch.bool, device=r.device)  # real i in a fake ball
    balls = torch.zeros(m, dtype=torch.int64, device=r.device)  # real DC balls holding j
    has_fake = torch.empty(n, dtype=torch.bool, device=r.device)  # real i's DC ball holds one
    fake_radii = _knn_squared(f, pr_k, chunk_size)[:, -1] if pr_k is not None else None
    for start, sq in _squared_distance_blocks(r, f, chunk_size):
        rows = slice(start, start + sq.shape[0])
        if pr_k is not None:
            in_real |= (sq < knn[rows, pr_k - 1, None]).any(0)
            in_fake[rows] = (sq < fake_radii).any(1)
        if dc_k is not None:
            inside = sq < knn[rows, dc_k - 1, None]
            balls += inside.sum(0)
            has_fake[rows] = inside.any(1)
    pr = None if pr_k is None else PrecisionRecall(_fraction(in_real), _fraction(in_fake), pr_k)
    dc = None if dc_k is None else DensityCoverage(int(balls.sum()) / (dc_k * m),
                                                   _fraction(has_fake), dc_k)
    return pr, dc


def precision_recall(
    real: ArrayLike, fake: ArrayLike, k: int = 3, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> PrecisionRecall:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake [M, D] against real
    [N, D] features, with k-NN balls (k = 3 in the paper) and strict ``<`` as in prdc.

    Computed on the first non-CPU input's device (numpy arrays start on the CPU), in float64
    if either input is float64 and float32 otherwise, ``chunk_size`` rows of distances at a
    time (it bounds memory, not the result; see the module docstring). Needs
    1 <= k < min(N, M).
    """
    pr, _ = _scores(*_real_and_fake(real, fake), k, None, chunk_size, None)
    return pr


def density_coverage(
    real: ArrayLike, fake: ArrayLike, k: int = 5, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020) of fake [M, D] against real [N, D] features,
    with real k-NN balls (k = 5 in the paper) and strict ``<`` as in prdc.

    Device, dtype and chunking as in ``precision_recall``; only real radii are needed, so
    fake may have any M >= 1. Needs 1 <= k < N.
    """
    _, dc = _scores(*_real_and_fake(real, fake), None, k, chunk_size, None)
    return dc


def manifold_scores(
    real: ArrayLike, fake: ArrayLike, pr_k: int = 3, dc_k: int = 5, *,
    chunk_size: int = DEFAULT_CHUNK_SIZE, real_knn_squared: Tensor | None = None,
) -> tuple[PrecisionRecall, DensityCoverage]:
    """Both metrics at once, sharing their distance passes (three instead of five).
    ``real_knn_squared`` is ``knn_distances(real, max(pr_k, dc_k), squared=True)`` when the
    caller has it: a fixed real set's neighbours need computing only once (squared, so the
    ball tests see exactly the values they would compute)."""
    return _scores(*_real_and_fake(real, fake), pr_k, dc_k, chunk_size, real_knn_squared)
