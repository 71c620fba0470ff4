import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bench.metrics.knn_manifold import (
    TREE_MAX_DIM,
    DensityCoverage,
    PrecisionRecall,
    density_coverage,
    knn_distances,
    knn_radii,
    precision_recall,
)
from tests.conftest import slow_property


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def _reference(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The four metrics straight from the definitions, on full float64 distance matrices."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    # Column 0 of each sorted row is the sample's zero distance to itself.
    real_radii = np.sort(_distances(real, real), axis=1)[:, k]
    fake_radii = np.sort(_distances(fake, fake), axis=1)[:, k]
    real_fake = _distances(real, fake)
    in_real_ball = real_fake < real_radii[:, None]
    return {
        "precision": in_real_ball.any(axis=0).mean(),
        "recall": (real_fake < fake_radii[None, :]).any(axis=1).mean(),
        "density": in_real_ball.sum() / (k * len(fake)),
        "coverage": (real_fake.min(axis=1) < real_radii).mean(),
    }


def _check_against_reference(real, fake, k: int, chunk_size: int) -> None:
    expected = _reference(np.asarray(real), np.asarray(fake), k)
    pr = precision_recall(real, fake, k, chunk_size=chunk_size)
    dc = density_coverage(real, fake, k, chunk_size=chunk_size)
    assert pr.precision == expected["precision"]
    assert pr.recall == expected["recall"]
    assert dc.coverage == expected["coverage"]
    assert dc.density == pytest.approx(expected["density"], rel=1e-12, abs=1e-12)
    assert 0 <= pr.precision <= 1 and 0 <= pr.recall <= 1 and 0 <= dc.coverage <= 1
    assert dc.density >= 0


def _gaussian(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def _ring_mixture(per_mode: int, modes: range, seed: int) -> np.ndarray:
    """Blobs of std 0.1 at 10 points of a radius-10 circle (neighbouring centres ~6 apart)."""
    angles = 2 * np.pi * np.arange(10) / 10
    centres = 10 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    noise = 0.1 * np.random.default_rng(seed).standard_normal((per_mode * len(modes), 2))
    return np.repeat(centres[list(modes)], per_mode, axis=0) + noise


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 7])
def test_knn_radii_closed_form(chunk_size):
    x = np.array([[0.0], [1.0], [3.0], [6.0], [10.0]])
    assert knn_radii(x, 1, chunk_size=chunk_size).tolist() == [1, 1, 2, 3, 4]
    assert knn_radii(x, 2, chunk_size=chunk_size).tolist() == [3, 2, 3, 4, 7]
    # A sample is excluded by index, so an exact duplicate is a neighbour at distance 0.
    dup = np.array([[0.0], [0.0], [5.0]])
    assert knn_radii(dup, 1, chunk_size=chunk_size).tolist() == [0, 0, 5]


def test_knn_radii_keeps_float64_and_computes_lower_precision_in_float32():
    x = _gaussian(20, 3, seed=0)
    assert knn_radii(x, 2).dtype == torch.float64
    assert knn_radii(torch.from_numpy(x).half(), 2).dtype == torch.float32


def test_hand_case_uses_strict_inequality():
    # Real k=1 radii: 1, 1, 2, 1, 1. Fake 2 sits exactly on the boundary of real 1's ball
    # and fake 5 exactly on real 3's: a strict "<" leaves both outside.
    real = torch.tensor([[0.0], [1.0], [3.0], [20.0], [21.0]], dtype=torch.float64)
    fake = torch.tensor([[2.0], [5.0], [0.5]], dtype=torch.float64)
    # fakes hold 1, 0 and 2 real balls; real balls 0-2 hold a fake; reals 0-2 lie in fake balls
    assert precision_recall(real, fake, k=1) == PrecisionRecall(precision=2 / 3, recall=0.6, k=1)
    assert density_coverage(real, fake, k=1) == DensityCoverage(density=1.0, coverage=0.6, k=1)


@pytest.mark.parametrize("dims", [2, 8])  # the KD-tree route and the distance blocks
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("k", "chunk_size"), [(1, 1024), (3, 64), (5, 37)])
def test_identical_sets(dims, dtype, k, chunk_size):
    # Each open ball holds its centre and its k - 1 nearer neighbours, so summed over the
    # fake copies every real ball is counted exactly k times: density is exactly 1.
    real = torch.from_numpy(_gaussian(300, dims, seed=1)).to(dtype)
    pr = precision_recall(real, real.clone(), k, chunk_size=chunk_size)
    dc = density_coverage(real, real.clone(), k, chunk_size=chunk_size)
    assert (pr.precision, pr.recall) == (1.0, 1.0)
    assert (dc.density, dc.coverage) == (1.0, 1.0)


def test_dropping_half_the_modes_halves_recall_and_coverage():
    real = _ring_mixture(per_mode=100, modes=range(10), seed=2)
    fake = _ring_mixture(per_mode=100, modes=range(5), seed=3)
    pr, dc = precision_recall(real, fake), density_coverage(real, fake)
    # Balls are ~0.1 wide and modes ~6 apart, so no real sample of a dropped mode is reached.
    assert 0.45 <= pr.recall <= 0.5
    assert 0.45 <= dc.coverage <= 0.5
    assert pr.precision >= 0.95
    assert dc.density == pytest.approx(1.0, abs=0.15)


def test_distant_fake_set_scores_zero():
    real = _gaussian(200, 4, seed=4)
    fake = _gaussian(150, 4, seed=5) + 100.0
    pr, dc = precision_recall(real, fake), density_coverage(real, fake)
    assert (pr.precision, pr.recall, dc.density, dc.coverage) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("dims", [2, 5])
@pytest.mark.parametrize("k", [1, 3, 5, 10])
@pytest.mark.parametrize("chunk_size", [1, 33, 150, 1024])
def test_matches_reference_implementation(dims, k, chunk_size):
    real, fake = _gaussian(200, dims, seed=6), _gaussian(150, dims, seed=7) * 1.3 + 0.4
    _check_against_reference(real, fake, k, chunk_size)


@pytest.mark.parametrize("spread", [0.02, 1.0, 30.0])  # fake: a mode-collapsed to a wild one
def test_tree_and_distance_blocks_agree_on_the_suites_2d_samples(spread):
    # 2,500 ring8-like points per side, as the quick suite scores them: padded with zero
    # columns past TREE_MAX_DIM they take the distance blocks, else the KD-trees
    gen = torch.Generator().manual_seed(3)
    angles = torch.randint(8, (2, 2500), generator=gen) * (torch.pi / 4)
    ring = 2 * torch.stack([angles.cos(), angles.sin()], -1)
    real = (ring[0] + 0.02 * torch.randn(2500, 2, generator=gen)).double()
    fake = (ring[1] + spread * torch.randn(2500, 2, generator=gen)).double()
    padded = [torch.cat([x, torch.zeros(len(x), TREE_MAX_DIM - 1)], 1) for x in (real, fake)]
    assert precision_recall(real, fake) == precision_recall(*padded)
    assert density_coverage(real, fake) == density_coverage(*padded)


def test_results_do_not_depend_on_chunk_size():
    real = torch.from_numpy(_gaussian(200, 5, seed=8)).float()
    fake = torch.from_numpy(_gaussian(150, 5, seed=9)).float() + 0.5
    pr = {precision_recall(real, fake, chunk_size=c) for c in (1, 7, 64, 200, 5000)}
    dc = {density_coverage(real, fake, chunk_size=c) for c in (1, 7, 64, 200, 5000)}
    assert len(pr) == 1 and len(dc) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensor_and_numpy_inputs_agree(dtype):
    real, fake = _gaussian(120, 6, seed=10).astype(dtype), _gaussian(90, 6, seed=11).astype(dtype)
    as_tensors = (torch.from_numpy(real), torch.from_numpy(fake))
    assert precision_recall(real, fake) == precision_recall(*as_tensors)
    assert density_coverage(real, fake) == density_coverage(*as_tensors)
    mixed = (real, torch.from_numpy(fake))
    assert precision_recall(*mixed) == precision_recall(*as_tensors)


@st.composite
def _small_sets(draw):
    """Small sets on an integer grid: many exact ties and duplicates, and distances the
    production (matrix product) and reference (differences) formulas both get exactly."""
    d = draw(st.integers(1, 4))
    n, m = draw(st.integers(2, 25)), draw(st.integers(2, 25))
    coords = st.integers(-3, 3)
    real = draw(arrays(np.int8, (n, d), elements=coords))
    fake = draw(arrays(np.int8, (m, d), elements=coords))
    k = draw(st.integers(1, min(n, m) - 1))
    chunk_size = draw(st.integers(1, n + 2))
    as_tensor = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    real, fake = real.astype(dtype), fake.astype(dtype)
    if as_tensor:
        return torch.from_numpy(real), torch.from_numpy(fake), k, chunk_size
    return real, fake, k, chunk_size


@slow_property(150)
@given(_small_sets())
def test_property_matches_reference_and_stays_in_range(sets):
    real, fake, k, chunk_size = sets
    _check_against_reference(real, fake, k, chunk_size)


@pytest.mark.parametrize(
    ("real", "fake", "k", "message"),
    [
        (np.zeros(10), np.zeros((10, 2)), 3, r"real features must be \[N, D\]"),
        (np.zeros((10, 2)), np.zeros((10, 2, 1)), 3, r"fake features must be \[N, D\]"),
        (np.zeros((10, 2)), np.zeros((10, 3)), 3, "same D, got 2 and 3"),
        (np.zeros((10, 2)), np.zeros((10, 2)), 0, "k must be >= 1"),
        (np.zeros((3, 2)), np.zeros((10, 2)), 3, "more than k real samples"),
        (np.zeros((10, 2)), np.zeros((3, 2)), 3, "more than k fake samples"),
        (np.zeros((10, 2)), np.zeros((0, 2)), 3, "fake features are empty"),
    ],
)
def test_precision_recall_rejects_bad_inputs(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        precision_recall(real, fake, k)


def test_density_coverage_needs_enough_real_samples_only():
    real, fake = _gaussian(6, 2, seed=12), _gaussian(1, 2, seed=13)
    assert math.isfinite(density_coverage(real, fake, k=5).density)
    with pytest.raises(ValueError, match="more than k real samples"):
        density_coverage(real, fake, k=6)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        density_coverage(real, fake, chunk_size=0)
    with pytest.raises(ValueError, match=r"input features must be \[N, D\]"):
        knn_radii(np.zeros(5), 1)


@pytest.mark.parametrize("chunk_size", [7, 1024])
def test_given_real_neighbours_give_the_same_scores(chunk_size):
    gen = torch.Generator().manual_seed(5)
    real, fake = torch.randn(300, 3, generator=gen), torch.randn(250, 3, generator=gen) + 0.3
    knn = knn_distances(real, 5)
    assert torch.equal(knn[:, 2], knn_radii(real, 3)) and torch.equal(knn[:, 4], knn_radii(real, 5))
    squared = knn_distances(real, 5, squared=True)  # one set of neighbours for both metrics
    assert precision_recall(real, fake, 3, chunk_size=chunk_size, real_knn_squared=squared) \
        == precision_recall(real, fake, 3, chunk_size=chunk_size)
    assert density_coverage(real, fake, 5, chunk_size=chunk_size, real_knn_squared=squared) \
        == density_coverage(real, fake, 5, chunk_size=chunk_size)
    assert density_coverage(real, real, real_knn_squared=squared).density == 1.0  # ties stay out
    with pytest.raises(ValueError, match="real_knn_squared must be"):
        precision_recall(real, fake, 3, real_knn_squared=squared[:, :2])
