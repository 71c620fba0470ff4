"""Exact Frechet distance between Gaussians, through symmetric eigendecompositions.

    d^2 = |mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrt(sigma1 sigma2))

sigma1 sigma2 is not symmetric, so pytorch-fid takes its general matrix square root
(scipy's Schur-based ``sqrtm``). Instead, with sigma1 = U diag(l) U^T (``eigh``) and
A = U diag(sqrt(l)), so that sigma1 = A A^T, the product sigma1 sigma2 = A (A^T sigma2)
has the eigenvalues of the symmetric PSD matrix A^T sigma2 A, which is orthogonally
similar to S sigma2 S for S = sqrt(sigma1) = A U^T. So tr(sqrt(sigma1 sigma2)) is the sum
of the square roots of the eigenvalues of A^T sigma2 A: two symmetric eigensolvers and two
matrix products, all in float64, with no regularising epsilon and no imaginary parts to
discard. A depends only on sigma1, so ``FrechetReference`` keeps it for repeated distances
against one real-data reference.
"""

import numpy as np
import torch
from torch import Tensor

ArrayLike = Tensor | np.ndarray


def _pick_device(*xs: ArrayLike) -> torch.device:
    """The first non-CPU device among the tensors, so GPU inputs are computed on the GPU."""
    for x in xs:
        if isinstance(x, Tensor) and x.device.type != "cpu":
            # MPS has no float64; everything else with float64 linear algebra is fine.
            return torch.device("cpu") if x.device.type == "mps" else x.device
    return torch.device("cpu")


def _as_f64(x: ArrayLike, device: torch.device) -> Tensor:
    return torch.as_tensor(x).detach().to(device=device, dtype=torch.float64)


def _check_stats(mu: Tensor, sigma: Tensor, name: str) -> tuple[Tensor, Tensor]:
    # atleast_1d/2d mirror pytorch-fid, which accepts scalars for 1-d statistics.
    mu, sigma = torch.atleast_1d(mu), torch.atleast_2d(sigma)
    d = mu.shape[0]
    if mu.ndim != 1 or sigma.shape != (d, d):
        raise ValueError(
            f"{name}: mean must have shape (d,) and covariance (d, d); "
            f"got {tuple(mu.shape)} and {tuple(sigma.shape)}"
        )
    if not (torch.isfinite(mu).all() and torch.isfinite(sigma).all()):
        raise ValueError(f"{name}: mean or covariance contains NaN or inf")
    return mu, sigma


def _sqrt_factor(sigma: Tensor) -> Tensor:
    """A with A A^T = sigma, from eigh; eigenvalues below zero are rounding noise, set to 0."""
    eigvals, eigvecs = torch.linalg.eigh(sigma)
    return eigvecs * eigvals.clamp(min=0).sqrt()


class FrechetReference:
    """Gaussian statistics of a reference set, with the square-root factor of sigma computed once.

    ``distance`` then costs two matrix products and one eigenvalue solve per call.
    """

    def __init__(self, mu: ArrayLike, sigma: ArrayLike, device: torch.device | str | None = None):
        self.device = torch.device(device) if device is not None else _pick_device(mu, sigma)
        mu_t, sigma_t = _check_stats(
            _as_f64(mu, self.device), _as_f64(sigma, self.device), "reference"
        )
        self._mu = mu_t
        self._trace = torch.trace(sigma_t)
        self._factor = _sqrt_factor(sigma_t)

    @property
    def dim(self) -> int:
        return self._mu.shape[0]

    def distance(self, mu: ArrayLike, sigma: ArrayLike) -> float:
        """Frechet distance from the reference to N(mu, sigma)."""
        mu_t, sigma_t = _check_stats(
            _as_f64(mu, self.device), _as_f64(sigma, self.device), "compared"
        )
        if mu_t.shape != self._mu.shape:
            raise ValueError(
                f"dimension mismatch: reference has {self.dim}, compared has {mu_t.shape[0]}"
            )
        a = self._factor
        eigvals = torch.linalg.eigvalsh(a.T @ sigma_t @ a)
        tr_covmean = eigvals.clamp(min=0).sqrt().sum()
        diff = mu_t - self._mu
        fd = diff.dot(diff) + self._trace + torch.trace(sigma_t) - 2 * tr_covmean
        return float(fd)


def frechet_distance(
    mu1: ArrayLike,
    sigma1: ArrayLike,
    mu2: ArrayLike,
    sigma2: ArrayLike,
    *,
    device: torch.device | str | None = None,
) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), exact in float64.

    Accepts numpy arrays or torch tensors; runs on the tensors' device (the GPU when they
    are there) unless ``device`` says otherwise.
    """
    if device is None:
        device = _pick_device(mu1, sigma1, mu2, sigma2)
    return FrechetReference(mu1, sigma1, device=device).distance(mu2, sigma2)
