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
Balls compare squared distances with squared radii, so no distance block is square-rooted.
A caller that scores many fake sets against one real set passes the real set's neighbours
(``knn_distances(real, k, squared=True)``) once; both metrics read the radius they need
from them.
chunk_size changes no result, except that the matrix product may round a block's distances
differently by its shape: a ball test within rounding of a tie could then flip.

Low-dimensional features on the CPU (``TREE_MAX_DIM``: the 2-D points) take another route to
the same quantities: KD-trees (``scipy.spatial.cKDTree``) find each row's k + 1 nearest rows
and, for each ball, the candidate points within a hair more than its radius; the squared
distances of those pairs are then computed from coordinate differences, in the inputs'
float dtype, and compared with the squared radii as above (strict ``<``). Near N log N
instead of N x M (docs/PERFORMANCE.md, issue 22). The tests check both routes against the
definitions; they differ only where the matrix product's rounding flips a tie.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import Tensor

ArrayLike = Tensor | np.ndarray

DEFAULT_CHUNK_SIZE = 1024
"""Rows per distance block: a 1024 x 10,000 float32 block is 41 MB."""
TREE_MAX_DIM = 3
"""Features of at most this many dimensions on the CPU use KD-trees; above it a tree prunes
little and the distance blocks win."""
REACH_MARGIN = 1e-5
"""Relative slack of a tree's ball query over the radius: the tree measures in float64, the
test that decides is the exact one on the pairs it returns."""


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


def _tree_suits(x: Tensor) -> bool:
    return x.device.type == "cpu" and x.shape[1] <= TREE_MAX_DIM


def _pair_squares(a: np.ndarray, rows: np.ndarray, b: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """|a[rows] - b[cols]|^2 from coordinate differences, in the inputs' dtype: the one formula
    the tree route uses for radii and ball tests alike, so a tie stays a tie."""
    return np.square(a[rows] - b[cols]).sum(-1)


def _tree_knn_squared(x: np.ndarray, k: int) -> np.ndarray:
    """[N, k]: each row's k smallest squared distances to the other rows, ascending. The
    k + 1 nearest rows include the row itself unless k + 1 exact duplicates tie with it; it is
    excluded by index, so duplicates still count."""
    _, nearest = cKDTree(x).query(x, k + 1)
    rows = np.arange(len(x))[:, None]
    sq = _pair_squares(x, rows, x, nearest)
    sq[nearest == rows] = np.inf
    return np.sort(sq, axis=1)[:, :k]


def _tree_ball_pairs(centres: np.ndarray, radii_sq: np.ndarray,
                     points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre, point) index pairs with |centre - point|^2 < radius^2, strictly."""
    reach = np.sqrt(radii_sq.astype(np.float64)) * (1 + REACH_MARGIN)
    found = cKDTree(points).query_ball_point(centres, reach, return_sorted=False)
    counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    rows = np.repeat(np.arange(len(centres)), counts)
    cols = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=int(counts.sum()))
    inside = _pair_squares(centres, rows, points, cols) < radii_sq[rows]
    return rows[inside], cols[inside]


def _knn_squared(x: Tensor, k: int, chunk_size: int) -> Tensor:
    """[N, k]: each row's k smallest squared distances to the other rows, ascending."""
    if _tree_suits(x):
        return torch.from_numpy(_tree_knn_squared(x.numpy(), k))
    out = torch.empty(x.shape[0], k, dtype=x.dtype, device=x.device)
    for start, sq in _squared_distance_blocks(x, x, chunk_size):
        # Exclude each sample by index, not by distance 0, so duplicates still count.
        sq.diagonal(offset=start).fill_(torch.inf)
        out[start : start + sq.shape[0]] = sq.topk(k, dim=1, largest=False).values
    return out


def knn_distances(features: ArrayLike, k: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  squared: bool = False) -> Tensor:
    """[N, k]: each row's distances (``squared``: their squares, as the metrics'
    ``real_knn_squared`` takes them) to its 1st..k-th nearest other rows, ascending.
    Column j - 1 holds the radii of the j-NN balls, so one pass serves every k up to ``k``.

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


def _real_neighbours(r: Tensor, k: int, chunk_size: int,
                     real_knn_squared: Tensor | None) -> Tensor:
    """[N, >= k] squared neighbour distances of the real rows: given, or computed."""
    if real_knn_squared is None:
        return _knn_squared(r, k, chunk_size)
    if real_knn_squared.shape[0] != r.shape[0] or real_knn_squared.shape[1] < k:
        raise ValueError(f"real_knn_squared must be [N={r.shape[0]}, >= {k}], got "
                         f"{list(real_knn_squared.shape)}")
    return real_knn_squared.to(r)


def precision_recall(
    real: ArrayLike, fake: ArrayLike, k: int = 3, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
    real_knn_squared: Tensor | None = None,
) -> PrecisionRecall:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake [M, D] against real
    [N, D] features, with k-NN balls (k = 3 in the paper) and strict ``<`` as in prdc.

    Computed on the first non-CPU input's device (numpy arrays start on the CPU), in float64
    if either input is float64 and float32 otherwise, ``chunk_size`` rows of distances at a
    time (it bounds memory, not the result; see the module docstring). Needs
    1 <= k < min(N, M). ``real_knn_squared``: the real set's ``knn_distances(real, k' >= k,
    squared=True)`` when the caller has them.
    """
    r, f = _real_and_fake(real, fake)
    _check_k(k, r.shape[0], "real")
    _check_k(k, f.shape[0], "fake")
    _check_chunk_size(chunk_size)
    real_radii = _real_neighbours(r, k, chunk_size, real_knn_squared)[:, k - 1]
    fake_radii = _knn_squared(f, k, chunk_size)[:, -1]
    if _tree_suits(r):
        rn, fn = r.numpy(), f.numpy()
        _, in_real_ball = _tree_ball_pairs(rn, real_radii.numpy(), fn)
        _, in_fake_ball = _tree_ball_pairs(fn, fake_radii.numpy(), rn)
        return PrecisionRecall(precision=len(np.unique(in_real_ball)) / len(fn),
                               recall=len(np.unique(in_fake_ball)) / len(rn), k=k)
    in_real = torch.zeros(f.shape[0], dtype=torch.bool, device=r.device)
    in_fake = torch.empty(r.shape[0], dtype=torch.bool, device=r.device)
    for start, sq in _squared_distance_blocks(r, f, chunk_size):
        rows = slice(start, start + sq.shape[0])
        in_real |= (sq < real_radii[rows, None]).any(0)
        in_fake[rows] = (sq < fake_radii).any(1)
    return PrecisionRecall(precision=_fraction(in_real), recall=_fraction(in_fake), k=k)


def density_coverage(
    real: ArrayLike, fake: ArrayLike, k: int = 5, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
    real_knn_squared: Tensor | None = None,
) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020) of fake [M, D] against real [N, D] features,
    with real k-NN balls (k = 5 in the paper) and strict ``<`` as in prdc.

    Device, dtype, chunking and ``real_knn_squared`` as in ``precision_recall``; only real
    radii are needed, so fake may have any M >= 1. Needs 1 <= k < N.
    """
    r, f = _real_and_fake(real, fake)
    _check_k(k, r.shape[0], "real")
    _check_chunk_size(chunk_size)
    real_radii = _real_neighbours(r, k, chunk_size, real_knn_squared)[:, k - 1]
    if _tree_suits(r):
        balls, _ = _tree_ball_pairs(r.numpy(), real_radii.numpy(), f.numpy())
        return DensityCoverage(density=len(balls) / (k * f.shape[0]),
                               coverage=len(np.unique(balls)) / r.shape[0], k=k)
    balls = torch.zeros(f.shape[0], dtype=torch.int64, device=r.device)
    has_fake = torch.empty(r.shape[0], dtype=torch.bool, device=r.device)
    for start, sq in _squared_distance_blocks(r, f, chunk_size):
        inside = sq < real_radii[start : start + sq.shape[0], None]
        balls += inside.sum(0)
        has_fake[start : start + sq.shape[0]] = inside.any(1)
    return DensityCoverage(density=int(balls.sum()) / (k * f.shape[0]),
                           coverage=_fraction(has_fake), k=k)
