import numpy as np
import pytest
import torch

from bench.metrics.kid import kernel_inception_distance


def _gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


def test_hand_computed_case():
    # d = 1, k(x, y) = (xy + 1)^3. Within-set off-diagonal terms: k(0,1) = 1, k(2,3) = 343;
    # cross terms k(0,2), k(0,3), k(1,2), k(1,3) = 1, 1, 27, 64, mean 23.25.
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
    kid = kernel_inception_distance(x, y, subset_size=2, n_subsets=1)
    assert kid.mean == pytest.approx(1 + 343 - 2 * 23.25)
    assert kid.std == 0.0


def test_identical_sets_are_near_zero_and_shifted_sets_positive():
    x = _gaussian(400, 16, seed=0)
    same = kernel_inception_distance(x, x, subset_size=200, n_subsets=20)
    shifted = kernel_inception_distance(x, _gaussian(400, 16, seed=1, shift=0.5), n_subsets=20)
    further = kernel_inception_distance(x, _gaussian(400, 16, seed=1, shift=1.0), n_subsets=20)
    assert shifted.mean > 0
    assert abs(same.mean) < 0.05 * shifted.mean
    assert further.mean > shifted.mean


def test_unbiased_estimate_takes_both_signs_around_zero():
    # Two independent samples of one distribution: the true MMD^2 is 0. The unbiased
    # estimator scatters around it (a biased V-statistic would always be positive).
    estimates = np.array(
        [
            kernel_inception_distance(
                _gaussian(100, 8, seed=2 * i), _gaussian(100, 8, seed=2 * i + 1), n_subsets=1
            ).mean
            for i in range(40)
        ]
    )
    assert (estimates < 0).any() and (estimates > 0).any()
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean()) < 4 * standard_error


def test_seeded_and_subset_size_capped_by_n():
    x, y = _gaussian(60, 4, seed=3), torch.from_numpy(_gaussian(50, 4, seed=4, shift=0.3))
    first = kernel_inception_distance(x, y, subset_size=40, n_subsets=5, seed=7)
    assert first == kernel_inception_distance(x, y, subset_size=40, n_subsets=5, seed=7)
    assert first != kernel_inception_distance(x, y, subset_size=40, n_subsets=5, seed=8)
    assert first.std > 0
    # Defaults ask for subsets of 1000; with 50 samples they use all 50 rows.
    capped = kernel_inception_distance(x[:50], y)
    full = kernel_inception_distance(x[:50], y, subset_size=50, n_subsets=100)
    assert capped == full


def test_rejects_mismatched_dimensions_and_tiny_sets():
    with pytest.raises(ValueError, match="same d"):
        kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(np.zeros((1, 3)), np.zeros((5, 3)))
