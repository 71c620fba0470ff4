"""Our exact Frechet distance against pytorch-fid's scipy ``sqrtm`` at 2048 dimensions.

pytorch-fid's call takes seconds on a 2-core CPU, so it runs once per test; ours runs in
the benchmark rounds (once with --benchmark-disable). ``extra_info`` records both times
and the speed-up, for the plain function and for a cached reference square root.
"""

import os
import time
import warnings

import numpy as np
import pytest
import torch

from bench.metrics.frechet import FrechetReference, frechet_distance

DIM = 2048


@pytest.fixture(scope="module")
def stats():
    """Two Gaussians' statistics with well-conditioned random SPD covariances."""
    rng = np.random.default_rng(0)

    def covariance():
        a = rng.standard_normal((DIM, 2 * DIM))
        return a @ a.T / (2 * DIM)

    return (
        rng.standard_normal(DIM),
        covariance(),
        rng.standard_normal(DIM) * 0.1,
        covariance(),
    )


def _timed(fn, times: list):
    def run(*args):
        start = time.perf_counter()
        result = fn(*args)  # returns a Python float, so GPU work has finished
        times.append(time.perf_counter() - start)
        return result

    return run


@pytest.mark.benchmark(group="frechet-2048")
@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.cuda,
        ),
    ],
)
def test_frechet_distance_vs_pytorch_fid(benchmark, stats, device):
    fid_score = pytest.importorskip(
        "pytorch_fid.fid_score",
        reason="pytorch-fid is not installed: `pip install pytorch-fid` to benchmark against it",
    )
    # The test suite pins torch to one thread; compare with every core on both sides, as
    # numpy's BLAS under scipy uses them all.
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=...)
            expected = fid_score.calculate_frechet_distance(*stats)
        reference_s = time.perf_counter() - start

        inputs = [torch.from_numpy(x).to(device) for x in stats]
        if device == "cuda":
            frechet_distance(*inputs)  # CUDA and cuSOLVER start-up is not the metric's cost
        times: list[float] = []
        got = benchmark.pedantic(
            _timed(frechet_distance, times), args=inputs, rounds=3, iterations=1
        )
        cached = FrechetReference(inputs[0], inputs[1], device=device)
        cached_times: list[float] = []
        _timed(cached.distance, cached_times)(inputs[2], inputs[3])
    finally:
        torch.set_num_threads(threads)

    assert got == pytest.approx(expected, rel=1e-6)
    benchmark.extra_info.update(
        {
            "device": device,
            "dim": DIM,
            "torch_threads": os.cpu_count(),
            # Other processes on a shared machine slow both sides, and the ratio too.
            "load_average_1m": os.getloadavg()[0],
            "pytorch_fid_s": reference_s,
            "ours_s": min(times),
            "speedup": reference_s / min(times),
            "ours_cached_reference_s": cached_times[0],
            "speedup_cached_reference": reference_s / cached_times[0],
        }
    )
