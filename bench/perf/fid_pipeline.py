"""FID end to end, the suite's way against pytorch-fid's, on the same generated images with
the same Inception weights.

Both sides generate N images with the same 32-px DCGAN generator (CIFAR-10's generator in
the ``paper-images`` suite, in eval mode so batch sizes do not change the images), compute
Inception pool3 features, their statistics and the Frechet distance against reference
statistics prepared beforehand (a suite run caches them; pytorch-fid reads them from .npz):

- the suite: images made and embedded on the device ``FEATURE_BATCH`` at a time, strict
  float32, the network in channels_last when asked, statistics streamed in float64 on the
  device, the distance with the cached square root of the reference covariance (the
  evaluator's own functions: ``all_features`` and the registry's ``frechet_to``);
- pytorch-fid (``fid_score.get_activations`` and ``calculate_frechet_distance`` as its CLI
  runs them): batches of 50, each batch's features copied to the host, ``np.mean`` /
  ``np.cov``, scipy's ``sqrtm``, and torch's default precision (TF32 convolutions on CUDA
  unless the user turns them off).

Without ``--fid-weights`` both networks get the same random weights: the arithmetic, hence the
time, is that of the real network, but the FID values mean nothing beyond their agreement.
"""

from pathlib import Path
from unittest import mock

import numpy as np
import pytorch_fid
import torch
from pytorch_fid import inception
from pytorch_fid.fid_score import calculate_frechet_distance
from torch import Tensor, nn

from bench.features.extractors import FEATURE_BATCH
from bench.features.fid_inception import (
    FEATURE_DIM,
    all_features,
    build_fid_inception,
    load_fid_inception,
    random_fid_weights,
)
from bench.metrics.frechet import FrechetReference
from bench.metrics.registry import frechet_to
from bench.perf.timing import PYTORCH_FID_BATCH, timed
from gan_zoo.architectures.dcgan import build_image_models

LATENT_DIM = 100


def fid_weights(path: Path | None) -> tuple[dict[str, Tensor], str]:
    """The Inception state dict both sides use, and what it is."""
    if path is None:
        return random_fid_weights(), "random (timing only)"
    return load_fid_inception(path).state_dict(), f"pytorch-fid's, verified ({path.name})"


def _generator(device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    generator, _ = build_image_models("dcgan", image_size=32, channels=3,
                                      latent_dim=LATENT_DIM, critic_norm="layer",
                                      base_filters=64)
    return generator.to(device).eval().requires_grad_(False)


def _reference() -> tuple[np.ndarray, np.ndarray]:
    """Full-rank reference statistics at Inception's dimension (a suite run would have them
    cached from the real data)."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2 * FEATURE_DIM, FEATURE_DIM, generator=gen, dtype=torch.float64)
    return x.mean(0).numpy(), np.cov(x.numpy(), rowvar=False)


def time_fid_end_to_end(
    n: int, device: torch.device, weights: Path | None = None, channels_last: bool = True
) -> dict:
    """Seconds and FID of both pipelines on ``n`` images, and how far their values differ."""
    state_dict, weights_label = fid_weights(weights)
    generator = _generator(device)
    latents = torch.randn(n, LATENT_DIM, generator=torch.Generator().manual_seed(2)).to(device)
    mu_ref, sigma_ref = _reference()

    ours_net = build_fid_inception(state_dict, device=device, input_range=(-1, 1),
                                   channels_last=channels_last)
    reference = FrechetReference(torch.from_numpy(mu_ref), torch.from_numpy(sigma_ref),
                                 device=device)

    def ours() -> float:
        with torch.inference_mode():
            images = torch.cat([generator(z) for z in latents.split(FEATURE_BATCH)])
            return frechet_to(all_features(ours_net, images, FEATURE_BATCH), reference)

    with torch.inference_mode():  # first calls pick kernels and allocate workspaces
        all_features(ours_net, generator(latents[:2]))
    ours_seconds, ours_fid = timed(ours, device)
    out = {"images": n, "weights": weights_label, "channels_last": channels_last,
           "ours_seconds": ours_seconds, "ours": ours_fid}

    # pytorch-fid fetches its weights from the web; hand it the same state dict instead
    with mock.patch.object(inception, "load_state_dict_from_url", lambda *a, **k: state_dict):
        theirs_net = inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    theirs_net = theirs_net.to(device).eval()

    def theirs() -> float:
        batches = []
        with torch.no_grad():
            for z in latents.split(PYTORCH_FID_BATCH):
                images = (generator(z) + 1) / 2  # pytorch-fid takes images in [0, 1]
                batches.append(theirs_net(images)[0].squeeze(3).squeeze(2).cpu().numpy())
        features = np.concatenate(batches)
        mu, sigma = np.mean(features, axis=0), np.cov(features, rowvar=False)
        return float(calculate_frechet_distance(mu, sigma, mu_ref, sigma_ref))

    with torch.no_grad():
        theirs_net((generator(latents[:2]) + 1) / 2)
    theirs_seconds, theirs_fid = timed(theirs, device)
    out.update({
        "pytorch_fid": theirs_fid, "pytorch_fid_seconds": theirs_seconds,
        "pytorch_fid_version": pytorch_fid.__version__,
        "speedup": theirs_seconds / ours_seconds,
        "rel_diff": abs(ours_fid - theirs_fid) / max(abs(theirs_fid), 1e-12),
    })
    return out
