import math

import numpy as np
import pytest
import torch

from bench.metrics.modes import mode_coverage
from bench.metrics.wasserstein import wasserstein1

CENTERS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def test_all_modes_covered_uniformly():
    rng = np.random.default_rng(0)
    samples = CENTERS[np.arange(400) % 4] + 0.02 * rng.standard_normal((400, 2))
    cov = mode_coverage(samples, CENTERS, std=0.1)
    assert cov.modes_captured == 4 and cov.modes_well_captured == 4
    assert cov.high_quality_fraction == 1.0
    assert cov.reverse_kl == pytest.approx(0.0, abs=1e-12)  # exactly 100 per mode


def test_collapse_to_one_mode():
    samples = np.zeros((50, 2))
    cov = mode_coverage(samples, CENTERS, std=0.1)
    assert cov.modes_captured == 1
    assert cov.high_quality_fraction == 1.0
    assert cov.reverse_kl == pytest.approx(math.log(4))  # all mass on one of 4 modes


def test_low_quality_samples_capture_nothing():
    samples = np.full((30, 2), 5.0)  # equidistant from all modes, far from each
    cov = mode_coverage(samples, CENTERS, std=0.1)
    assert cov.modes_captured == 0 and cov.high_quality_fraction == 0.0
    assert math.isnan(cov.reverse_kl)


def test_threshold_and_partial_histogram():
    # 3 std threshold at std 1: a sample 2.9 away is high quality, 3.1 away is not
    samples = np.array([[2.9, 0.0], [0.0, 3.1], [10.0, 0.0], [10.0, 0.0], [10.0, 0.0]])
    cov = mode_coverage(samples, CENTERS, std=1.0)
    assert cov.high_quality_fraction == pytest.approx(4 / 5)
    assert cov.modes_captured == 2
    p = np.array([1 / 4, 3 / 4])
    assert cov.reverse_kl == pytest.approx(float(np.sum(p * np.log(p * 4))))
    # a mode with 1 of 4 HQ samples holds 100% of its uniform share (1): well captured;
    # with min_share 1.5 it needs 1.5 samples and is not
    assert cov.modes_well_captured == 2
    assert mode_coverage(samples, CENTERS, 1.0, min_share=1.5).modes_well_captured == 1


def test_accepts_tensors():
    cov = mode_coverage(torch.zeros(10, 2), torch.tensor(CENTERS), 0.1)
    assert cov.modes_captured == 1 and cov.n_samples == 10 and cov.n_modes == 4


def test_wasserstein1_of_a_translation_is_its_length():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2))
    shift = np.array([0.3, -0.4])
    assert wasserstein1(x, x + shift) == pytest.approx(0.5, rel=1e-9)
    assert wasserstein1(torch.tensor(x), torch.tensor(x)) == pytest.approx(0.0, abs=1e-12)


def test_wasserstein1_closed_form_two_point_masses_unequal_sizes():
    # all of x at the origin, y split between (1, 0) and (3, 0): W1 = (1 + 3) / 2
    x = np.zeros((4, 2))
    y = np.array([[1.0, 0.0], [3.0, 0.0]])
    assert wasserstein1(x, y) == pytest.approx(2.0)
