import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_swiss_roll

from bench.core.errors import BenchError
from bench.data.toy import TOY_DATASETS, get_toy_dataset
from bench.training.streams import MemberStreams


def _sample(name: str, n: int = 20000, seeds=(0,)) -> torch.Tensor:
    return get_toy_dataset(name).sample(MemberStreams(list(seeds), torch.device("cpu")), n)


def test_ring8_matches_reference_parameters():
    data = get_toy_dataset("ring8")
    centers = data.centers_tensor()
    radii = centers.norm(dim=1)
    assert torch.allclose(radii, torch.full((8,), 2 / 1.414))
    assert data.std == pytest.approx(0.02 / 1.414)
    x = _sample("ring8")[0]
    offsets = x - centers[torch.cdist(x, centers).argmin(1)]
    assert offsets.std(0).numpy() == pytest.approx([0.02 / 1.414] * 2, rel=0.03)
    assert x.norm(dim=1).mean().item() == pytest.approx(1.414, rel=0.01)


def test_grid25_matches_reference_parameters():
    data = get_toy_dataset("grid25")
    xs = sorted({round(c[0], 6) for c in data.centers})
    assert xs == pytest.approx([v / 2.828 for v in (-4, -2, 0, 2, 4)])
    x = _sample("grid25")[0]
    centers = data.centers_tensor()
    nearest = torch.cdist(x, centers).argmin(1)
    counts = torch.bincount(nearest, minlength=25).float()
    assert counts.min() > 0.8 * len(x) / 25  # equal weights
    assert (x - centers[nearest]).std(0).numpy() == pytest.approx([0.05 / 2.828] * 2, rel=0.03)


def test_pacgan_presets():
    ring = get_toy_dataset("ring8-pacgan")
    assert ring.std == 0.01 and torch.allclose(ring.centers_tensor().norm(dim=1), torch.ones(8))
    grid = get_toy_dataset("grid25-pacgan")
    assert grid.std == 0.05 and len(grid.centers) == 25
    assert {c[0] for c in grid.centers} == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_swissroll_statistics_match_sklearn():
    ours = _sample("swissroll", 40000)[0].numpy()
    ref = make_swiss_roll(40000, noise=0.25, random_state=0)[0][:, [0, 2]] / 7.5
    assert np.allclose(ours.mean(0), ref.mean(0), atol=0.03)
    assert np.allclose(ours.std(0), ref.std(0), rtol=0.03)
    assert np.allclose(np.abs(ours).max(0), np.abs(ref).max(0), rtol=0.1)


def test_sampling_is_seeded_per_member():
    a = _sample("ring8", 100, seeds=(3, 4))
    b = _sample("ring8", 100, seeds=(3,))
    c = _sample("ring8", 100, seeds=(3, 4))
    assert torch.equal(a[0], b[0])  # member 0 does not depend on its companions
    assert torch.equal(a, c)
    assert not torch.equal(a[0], a[1])


def test_every_dataset_samples_finite_2d_points():
    for name in TOY_DATASETS:
        x = _sample(name, 64, seeds=(0, 1))
        assert x.shape == (2, 64, 2) and torch.isfinite(x).all()
    assert math.isclose(len(TOY_DATASETS), 5)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(BenchError, match="valid: ring8, grid25"):
        get_toy_dataset("ring9")
