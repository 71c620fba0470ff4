"""Streamed mean and covariance of feature vectors, and pytorch-fid's ``.npz`` stats format.

Features arrive batch by batch and are folded into a running mean and a running sum of
centred outer products (Chan et al.'s pairwise update) in float64 on the features'
device, so the full feature matrix is never held and never copied to the host.
Centring each batch on its own mean before merging avoids the cancellation of the
textbook ``E[xx^T] - mu mu^T`` form.
"""

import os
import warnings

import numpy as np
import torch
from torch import Tensor


class UndersampledWarning(UserWarning):
    """Fewer samples than feature dimensions: the covariance is singular, FID is unreliable."""


class FeatureStats:
    """Running mean and unbiased covariance of rows fed through ``update``."""

    def __init__(self, device: torch.device | str | None = None):
        self._device = torch.device(device) if device is not None else None
        self.n = 0
        self._mean: Tensor | None = None
        self._m2: Tensor | None = None  # sum of outer products of deviations from the mean

    @property
    def dim(self) -> int | None:
        return None if self._mean is None else self._mean.shape[0]

    @property
    def undersampled(self) -> bool:
        """True when N < feature dimension (singular covariance)."""
        return self.dim is not None and self.n < self.dim

    def update(self, features: Tensor | np.ndarray) -> None:
        """Add a (batch, dim) block of feature rows."""
        x = torch.as_tensor(features).detach()
        if x.ndim != 2:
            raise ValueError(f"features must have shape (batch, dim), got {tuple(x.shape)}")
        if self._device is None:
            # MPS has no float64; keep the statistics on the CPU there.
            self._device = torch.device("cpu") if x.device.type == "mps" else x.device
        if self.dim is not None and x.shape[1] != self.dim:
            raise ValueError(f"feature dimension changed from {self.dim} to {x.shape[1]}")
        b = x.shape[0]
        if b == 0:
            return
        x = x.to(device=self._device, dtype=torch.float64)
        batch_mean = x.mean(dim=0)
        centred = x - batch_mean
        batch_m2 = centred.T @ centred
        if self._mean is None:
            self._mean, self._m2, self.n = batch_mean, batch_m2, b
            return
        n_total = self.n + b
        delta = batch_mean - self._mean
        self._mean = self._mean + delta * (b / n_total)
        self._m2 = self._m2 + batch_m2 + torch.outer(delta, delta) * (self.n * b / n_total)
        self.n = n_total

    def mean(self) -> Tensor:
        """Mean feature vector (float64, on the statistics' device)."""
        if self._mean is None:
            raise ValueError("no features have been added")
        return self._mean

    def covariance(self) -> Tensor:
        """Unbiased covariance, as ``np.cov(features, rowvar=False)``; warns when N < dim."""
        if self.n < 2:
            raise ValueError(f"covariance needs at least 2 samples, got {self.n}")
        if self.undersampled:
            warnings.warn(
                f"{self.n} samples for {self.dim}-dimensional features: the covariance is "
                "singular and the Frechet distance is unreliable; use more samples",
                UndersampledWarning,
                stacklevel=2,
            )
        return self._m2 / (self.n - 1)


def _to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def save_stats_npz(
    path: str | os.PathLike, mu: Tensor | np.ndarray, sigma: Tensor | np.ndarray
) -> None:
    """Write ``mu``/``sigma`` as pytorch-fid does (``np.savez_compressed``), to exactly ``path``.

    pytorch-fid only reads a statistics file whose name ends in ``.npz``.
    """
    # Through a file object, so numpy does not append ".npz" to the name.
    with open(path, "wb") as f:
        np.savez_compressed(f, mu=_to_numpy(mu), sigma=_to_numpy(sigma))


def load_stats_npz(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read ``mu``/``sigma`` from a pytorch-fid statistics file (or one we wrote)."""
    with np.load(path) as f:
        mu, sigma = f["mu"][:], f["sigma"][:]
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(
            f"{os.fspath(path)}: expected mu (d,) and sigma (d, d), "
            f"got {mu.shape} and {sigma.shape}"
        )
    return mu, sigma
