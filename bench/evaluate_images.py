"""Checkpoint evaluation of image runs.

- digits-family datasets (``digits``, ``stacked-digits``): ``fd_digits``, the Frechet distance
  in the feature space of a small CNN trained on the digits training split (against
  ``eval.fid_reference``, the training split by default), and mode counting
  by classifying every channel (10 modes for digits, 1000 for stacked digits; PacGAN protocol);
- any dataset with ``eval.fid_samples > 0``: ``fid`` (pytorch-fid's Inception features,
  against the ``eval.fid_reference`` split's statistics, cached; the split is in every run's
  config.json and ``fid_n`` beside every value) and ``kid`` beside it;
- every dataset: the critic's estimate on held-out test-split images never used in training,
  and a grid of generated samples.

Samples are drawn with the networks in training mode (batch statistics), as the WGAN and DCGAN
reference code does; batch norm's running statistics are never used in training, so this has
no effect on it.
"""

import warnings

import numpy as np
import torch
from torch import Tensor, nn
from torchvision.utils import make_grid

from bench.config import EvalSpec
from bench.data.images import ImageDataset
from bench.environment import Environment
from bench.features.fid_inception import (
    FEATURE_DIM,
    load_fid_inception,
    sha256_file,
    strict_float32,
)
from bench.features.fid_inception import resolve_weights_path as resolve_fid_weights
from bench.metrics.digits_classifier import (
    DigitsClassifier,
    load_digits_classifier,
    mean_cov,
)
from bench.metrics.feature_stats import FeatureStats
from bench.metrics.frechet import FrechetReference
from bench.metrics.kid import kernel_inception_distance
from bench.metrics.stats_cache import load_or_compute
from bench.streams import MemberStreams
from gan_zoo.losses import AdversarialLoss

DIGITS_FAMILY = ("digits", "stacked-digits")
GRID_IMAGES = 64
CHUNK = 500  # images generated / embedded at a time, to bound memory
KID_REAL_SAMPLES = 5000


def image_grid(images: Tensor, columns: int = 8) -> np.ndarray:
    """[B, C, H, W] in [-1, 1] -> one uint8 [rows*H, columns*W, C] picture, 1-px gutters."""
    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=columns, padding=1,
                     pad_value=-1.0)
    if images.shape[1] == 1:
        grid = grid[:1]  # make_grid repeats a single channel as RGB
    return ((grid + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def inception_features(inception: nn.Module, images: Tensor) -> Tensor:
    """Pool3 features of ``images``, CHUNK at a time, in strict float32 (TF32 convolutions
    shift Inception features enough to move FID)."""
    with strict_float32():
        return torch.cat([inception(chunk) for chunk in images.split(CHUNK)])


def fid_from_features(features: Tensor, reference: FrechetReference) -> float:
    """FID of ``features`` against cached reference statistics, in float64 on their device."""
    stats = FeatureStats(device=features.device)
    stats.update(features)
    return reference.distance(stats.mean(), stats.covariance())


class ImageEvaluator:
    def __init__(
        self,
        train: ImageDataset,
        test: ImageDataset,
        spec: EvalSpec,
        seeds: list[int],
        device: torch.device,
        loss: AdversarialLoss,
        latent_dim: int,
        env: Environment,
        channels_last: bool = False,
    ) -> None:
        self.test, self.spec = test, spec
        self.reference = train if spec.fid_reference == "train" else test
        self.device, self.loss, self.latent_dim = device, loss, latent_dim
        self.streams = MemberStreams(seeds, device, purpose="eval")
        self.cache_dir = env.resolved_cache_dir() / "reference-stats"
        self.classifier: DigitsClassifier | None = None
        self.fd_reference: FrechetReference | None = None
        if train.name in DIGITS_FAMILY:
            self.classifier = load_digits_classifier(
                cache_dir=env.resolved_cache_dir(), device=device
            )
            self.fd_reference = self._digits_reference()
        self.inception = None
        if spec.fid_samples:
            weights = resolve_fid_weights(env.fid_weights, download=env.download)
            self.inception = load_fid_inception(weights, device=device, input_range=(-1, 1),
                                                channels_last=channels_last)
            self.fid_key = {"extractor": "pytorch-fid-inception-pool3",
                            "weights_sha256": sha256_file(weights)}
            self.fid_reference, self.kid_real = self._inception_reference()

    # --- references (cached on disk) ---------------------------------------------------

    def _digits_reference(self) -> FrechetReference:
        ref = self.reference
        key = {"metric": "fd_digits", "dataset": ref.name, "split": self.spec.fid_reference,
               "n": len(ref), "classifier": self.classifier.settings.key()}

        def compute():
            return mean_cov(self.classifier.features(ref.images))

        mu, sigma = load_or_compute(self.cache_dir, key, compute)
        return FrechetReference(mu, sigma, device=self.device)

    def _inception_reference(self) -> tuple[FrechetReference, Tensor]:
        ref = self.reference
        key = {"metric": "fid", "dataset": ref.name, "split": self.spec.fid_reference,
               "n": len(ref), **self.fid_key}

        def compute():
            stats = FeatureStats(device=self.device)
            with torch.inference_mode():
                for chunk in ref.images.split(CHUNK):
                    stats.update(inception_features(self.inception, chunk))
            return stats.mean(), stats.covariance()

        mu, sigma = load_or_compute(self.cache_dir, key, compute)
        gen = torch.Generator().manual_seed(0)
        idx = torch.randperm(len(ref), generator=gen)[:KID_REAL_SAMPLES]
        with torch.inference_mode():
            kid_real = inception_features(self.inception, ref.images[idx.to(self.device)])
        return FrechetReference(mu, sigma, device=self.device), kid_real

    # --- evaluation ----------------------------------------------------------------------

    def _generate(self, generator: nn.Module, n: int) -> Tensor:
        """[K, n, C, H, W], in chunks."""
        parts = [generator(self.streams.randn((m, self.latent_dim)))
                 for m in _chunk_sizes(n, CHUNK)]
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def evaluate(
        self, generator: nn.Module, critic: nn.Module, alive: np.ndarray
    ) -> tuple[dict[int, dict[str, float]], list[int]]:
        spec = self.spec
        n = max(spec.samples, spec.fid_samples)
        fakes = self._generate(generator, n)
        idx = self.streams.randint(len(self.test), (min(spec.critic_samples, len(self.test)),))
        real = self.test.images[idx]  # [K, n, C, H, W] held-out images
        d_real = torch.cat([critic(r) for r in real.split(CHUNK, dim=1)], dim=1)
        fake_c = fakes[:, : real.shape[1]]
        d_fake = torch.cat([critic(f) for f in fake_c.split(CHUNK, dim=1)], dim=1)
        gap = (d_real.mean(-1) - d_fake.mean(-1)).cpu().numpy()
        estimate = self.loss.estimate(d_real, d_fake).cpu().numpy()
        finite = torch.isfinite(fakes).flatten(1).all(-1).cpu().numpy()
        metrics, nonfinite = {}, []
        for member in np.flatnonzero(alive):
            if not finite[member]:
                nonfinite.append(int(member))
                continue
            values = {"critic_gap": float(gap[member]),
                      "divergence_estimate": float(estimate[member])}
            values.update(self._quality(fakes[member]))
            metrics[int(member)] = values
        return metrics, nonfinite

    def _quality(self, fakes: Tensor) -> dict[str, float]:
        spec, values = self.spec, {}
        if self.classifier is not None:
            sample = fakes[: spec.samples]
            mu, sigma = mean_cov(self.classifier.features(sample))
            values["fd_digits"] = self.fd_reference.distance(mu, sigma)
            digits = self.classifier.predict(sample)  # [n, C]
            place = 10 ** torch.arange(digits.shape[1] - 1, -1, -1, device=digits.device)
            modes = (digits * place).sum(1)
            n_modes = 10 ** digits.shape[1]
            counts = torch.bincount(modes, minlength=n_modes).double()
            p = counts[counts > 0] / len(modes)
            values["modes_captured"] = int((counts > 0).sum())
            values["reverse_kl"] = float((p * (p * n_modes).log()).sum())
        if self.inception is not None:
            with torch.inference_mode():
                feats = inception_features(self.inception, fakes[: spec.fid_samples])
            if len(feats) < FEATURE_DIM:
                warnings.warn(f"FID on N={len(feats)} < {FEATURE_DIM} features: the covariance "
                              "is singular and FID strongly biased", stacklevel=2)
            values["fid"] = fid_from_features(feats, self.fid_reference)
            values["fid_n"] = len(feats)
            kid = kernel_inception_distance(feats, self.kid_real)
            values["kid"] = kid.mean
            values["kid_std"] = kid.std
        return values

    @torch.no_grad()
    def checkpoint_images(self, generator: nn.Module) -> list[np.ndarray]:
        """A grid of generated samples per member."""
        fakes = self._generate(generator, GRID_IMAGES)
        return [image_grid(member) for member in fakes]

    def snapshot(self, generator: nn.Module, critic: nn.Module) -> list[dict[str, np.ndarray]]:
        return [{} for _ in range(self.streams.members)]


def _chunk_sizes(n: int, chunk: int) -> list[int]:
    return [min(chunk, n - start) for start in range(0, n, chunk)]
