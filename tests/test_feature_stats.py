import os
import warnings

import numpy as np
import pytest
import torch

from bench.metrics import stats_cache
from bench.metrics.feature_stats import (
    FeatureStats,
    UndersampledWarning,
    load_stats_npz,
    save_stats_npz,
)


def _features(n: int = 300, d: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # A large common offset: a naive E[xx^T] - mu mu^T would lose digits to cancellation.
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + 1000.0


def _stream(features: np.ndarray, batch_size: int) -> FeatureStats:
    stats = FeatureStats()
    for start in range(0, len(features), batch_size):
        stats.update(torch.from_numpy(features[start : start + batch_size]))
    return stats


def test_matches_numpy_mean_and_unbiased_covariance():
    x = _features()
    stats = _stream(x, batch_size=64)
    assert stats.n == 300 and stats.dim == 12
    assert stats.mean().dtype == torch.float64
    np.testing.assert_allclose(stats.mean().numpy(), x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(stats.covariance().numpy(), np.cov(x, rowvar=False), rtol=1e-9)


@pytest.mark.parametrize("batch_size", [1, 7, 100, 300])
def test_independent_of_batch_size(batch_size):
    x = _features()
    reference = _stream(x, batch_size=300)
    stats = _stream(x, batch_size=batch_size)
    torch.testing.assert_close(stats.mean(), reference.mean(), rtol=1e-13, atol=0)
    torch.testing.assert_close(stats.covariance(), reference.covariance(), rtol=1e-9, atol=1e-9)


def test_accepts_float32_numpy_and_ignores_empty_batches():
    x = _features(n=50).astype(np.float32)
    stats = FeatureStats()
    stats.update(x[:0])
    stats.update(x)
    assert stats.n == 50
    np.testing.assert_allclose(stats.mean().numpy(), x.astype(np.float64).mean(axis=0))


def test_warns_when_fewer_samples_than_dimensions():
    stats = _stream(_features(n=10, d=12), batch_size=4)
    assert stats.undersampled
    with pytest.warns(UndersampledWarning, match="10 samples for 12-dimensional"):
        stats.covariance()
    enough = _stream(_features(n=13, d=12), batch_size=4)
    assert not enough.undersampled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enough.covariance()


def test_rejects_bad_shapes_and_too_few_samples():
    stats = FeatureStats()
    with pytest.raises(ValueError, match="no features"):
        stats.mean()
    with pytest.raises(ValueError, match=r"\(batch, dim\)"):
        stats.update(torch.zeros(3))
    stats.update(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="at least 2 samples"):
        stats.covariance()
    with pytest.raises(ValueError, match="dimension changed"):
        stats.update(torch.zeros(2, 5))


def test_npz_round_trip_in_pytorch_fid_format(tmp_path):
    mu, sigma = np.arange(3.0), np.eye(3) * 2
    ours = tmp_path / "ours.npz"
    save_stats_npz(ours, torch.from_numpy(mu), torch.from_numpy(sigma))
    # The layout pytorch-fid reads: an npz archive with arrays "mu" and "sigma".
    with np.load(ours) as f:
        assert sorted(f.files) == ["mu", "sigma"]
        np.testing.assert_array_equal(f["mu"], mu)
        np.testing.assert_array_equal(f["sigma"], sigma)
    # And what pytorch-fid writes (np.savez_compressed(path, mu=..., sigma=...)), we read.
    theirs = tmp_path / "theirs.npz"
    np.savez_compressed(theirs, mu=mu, sigma=sigma)
    got_mu, got_sigma = load_stats_npz(theirs)
    np.testing.assert_array_equal(got_mu, mu)
    np.testing.assert_array_equal(got_sigma, sigma)


def test_pytorch_fid_reads_our_npz(tmp_path):
    fid_score = pytest.importorskip(
        "pytorch_fid.fid_score",
        reason="pytorch-fid is not installed: `pip install pytorch-fid` to check its reader",
    )
    mu, sigma = np.ones(4), np.eye(4)
    path = tmp_path / "stats.npz"
    save_stats_npz(path, mu, sigma)
    m, s = fid_score.compute_statistics_of_path(str(path), None, 1, 4, "cpu")
    np.testing.assert_array_equal(m, mu)
    np.testing.assert_array_equal(s, sigma)


def test_load_rejects_inconsistent_shapes(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, mu=np.zeros(3), sigma=np.eye(4))
    with pytest.raises(ValueError, match="expected mu"):
        load_stats_npz(path)


KEY = {"dataset": "digits", "split": "train", "n": 1797, "extractor": "fid-inception"}


def _counting_compute(calls: list):
    def compute():
        calls.append(1)
        return torch.arange(3.0), torch.eye(3)

    return compute


def test_cache_hits_on_the_same_key_and_misses_on_another(tmp_path):
    calls: list = []
    mu, sigma = stats_cache.load_or_compute(tmp_path, KEY, _counting_compute(calls))
    again_mu, again_sigma = stats_cache.load_or_compute(
        tmp_path, dict(KEY), _counting_compute(calls)
    )
    assert len(calls) == 1
    np.testing.assert_array_equal(mu, np.arange(3.0))
    np.testing.assert_array_equal(again_mu, mu)
    np.testing.assert_array_equal(again_sigma, sigma)
    stats_cache.load_or_compute(tmp_path, {**KEY, "n": 1000}, _counting_compute(calls))
    assert len(calls) == 2
    assert stats_cache.cache_path(tmp_path, KEY).with_suffix(".json").exists()


def test_key_digest_ignores_dict_order_only():
    reordered = dict(reversed(list(KEY.items())))
    assert stats_cache.key_digest(reordered) == stats_cache.key_digest(KEY)
    assert stats_cache.key_digest({**KEY, "split": "test"}) != stats_cache.key_digest(KEY)


def test_cache_writes_through_a_temporary_file_in_the_same_directory(tmp_path, monkeypatch):
    replaced = []
    real_replace = os.replace

    def recording_replace(src, dst):
        replaced.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(stats_cache.os, "replace", recording_replace)
    stats_cache.load_or_compute(tmp_path / "cache", KEY, _counting_compute([]))
    final = os.fspath(stats_cache.cache_path(tmp_path / "cache", KEY))
    src, dst = next((s, d) for s, d in replaced if d == final)
    assert os.path.dirname(src) == os.path.dirname(dst) and src != dst
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".json", ".npz"]


def test_failed_write_leaves_no_file_behind(tmp_path, monkeypatch):
    def failing_save(path, mu, sigma):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(stats_cache, "save_stats_npz", failing_save)
    with pytest.raises(OSError, match="disk full"):
        stats_cache.load_or_compute(tmp_path, KEY, _counting_compute([]))
    assert not stats_cache.cache_path(tmp_path, KEY).exists()
    assert not list(tmp_path.glob("*.tmp"))
    assert not list(tmp_path.glob(".*.tmp"))


def test_unreadable_cache_entry_is_recomputed_with_a_warning(tmp_path):
    stats_cache.cache_path(tmp_path, KEY).write_bytes(b"not an npz")
    calls: list = []
    with pytest.warns(UserWarning, match="recomputing unreadable"):
        mu, _ = stats_cache.load_or_compute(tmp_path, KEY, _counting_compute(calls))
    assert len(calls) == 1
    np.testing.assert_array_equal(mu, np.arange(3.0))
