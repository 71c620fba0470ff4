import math
import warnings

import numpy as np
import pytest
import torch

from bench.metrics.frechet import FrechetReference, frechet_distance


def _random_stats(rng: np.random.Generator, d: int, n: int, shift: float = 0.0):
    x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) / math.sqrt(d) + shift
    return x.mean(axis=0), np.cov(x, rowvar=False)


def test_equal_covariances_give_squared_mean_distance():
    rng = np.random.default_rng(0)
    _, sigma = _random_stats(rng, 32, 200)
    mu1, mu2 = rng.standard_normal(32), rng.standard_normal(32)
    expected = float(np.sum((mu1 - mu2) ** 2))
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(expected, rel=1e-9)


def test_diagonal_covariances_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 3.0, 16), rng.uniform(0.1, 3.0, 16)
    mu1, mu2 = rng.standard_normal(16), rng.standard_normal(16)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(expected, rel=1e-10)


def test_non_commuting_2x2_closed_form():
    # For 2x2 PSD A, B: tr sqrt(AB) = sqrt(tr(AB) + 2 sqrt(det(AB))).
    a = np.array([[2.0, 0.7], [0.7, 1.0]])
    b = np.array([[1.5, -0.4], [-0.4, 0.5]])
    ab = a @ b
    tr_sqrt = math.sqrt(np.trace(ab) + 2 * math.sqrt(np.linalg.det(ab)))
    expected = np.trace(a) + np.trace(b) - 2 * tr_sqrt
    assert frechet_distance(np.zeros(2), a, np.zeros(2), b) == pytest.approx(expected, rel=1e-12)


def test_agrees_with_pytorch_fid():
    fid_score = pytest.importorskip(
        "pytorch_fid.fid_score",
        reason="pytorch-fid is not installed: `pip install pytorch-fid` to compare with it",
    )
    # d = 64 keeps scipy's sqrtm fast; the benchmark compares the two at 2048 dimensions.
    rng = np.random.default_rng(2)
    mu1, sigma1 = _random_stats(rng, 64, 1000)
    mu2, sigma2 = _random_stats(rng, 64, 1000, shift=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=...)
        expected = fid_score.calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-6)


def test_numpy_and_torch_inputs_agree_and_order_does_not_matter():
    rng = np.random.default_rng(3)
    mu1, sigma1 = _random_stats(rng, 24, 100)
    mu2, sigma2 = _random_stats(rng, 24, 100, shift=0.5)
    from_numpy = frechet_distance(mu1, sigma1, mu2, sigma2)
    as_f32 = [torch.from_numpy(x).float() for x in (mu1, sigma1, mu2, sigma2)]
    assert frechet_distance(*as_f32) == pytest.approx(from_numpy, rel=1e-5)
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(from_numpy, rel=1e-9)


def test_reference_reuses_its_square_root():
    rng = np.random.default_rng(4)
    ref_mu, ref_sigma = _random_stats(rng, 20, 100)
    ref = FrechetReference(ref_mu, ref_sigma)
    assert ref.dim == 20
    for shift in (0.0, 0.3, 1.0):
        mu, sigma = _random_stats(rng, 20, 100, shift=shift)
        assert ref.distance(mu, sigma) == frechet_distance(ref_mu, ref_sigma, mu, sigma)


def test_singular_covariances_stay_exact():
    # N < d: rank-deficient covariances, where pytorch-fid needs an epsilon on the diagonal.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 50))
    sigma = np.cov(x, rowvar=False)
    mu1, mu2 = np.zeros(50), np.full(50, 0.1)
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(0.5, abs=1e-5)


def test_rejects_mismatched_or_non_finite_statistics():
    with pytest.raises(ValueError, match="dimension mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="covariance"):
        frechet_distance(np.zeros(3), np.eye(4), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.zeros(2), np.eye(2), np.array([np.nan, 0.0]), np.eye(2))


@pytest.mark.cuda
def test_cuda_inputs_give_the_cpu_result():
    rng = np.random.default_rng(6)
    stats = [*_random_stats(rng, 64, 300), *_random_stats(rng, 64, 300, shift=0.2)]
    on_gpu = [torch.from_numpy(x).cuda() for x in stats]
    assert frechet_distance(*on_gpu) == pytest.approx(frechet_distance(*stats), rel=1e-9)
