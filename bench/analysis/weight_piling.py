"""Weight pile-up at +-c: how much of a trained critic sits at the clipping bounds.

The WGAN-GP paper (Fig. 1b, right) shows weight clipping pushing critic weights to the two
extremes of the clipping range, unlike the gradient penalty. Critics are read from the
results store's ``models.pt`` (weight matrices and conv kernels of the critic; biases and
normalisation gains are left out, as in the paper's histograms).
"""

from pathlib import Path

import numpy as np
import torch

CRITIC_PREFIX = "critic."


def critic_weights(state: dict[str, torch.Tensor]) -> np.ndarray:
    """Every entry of the critic's weight matrices / kernels in ``state``, flattened.

    Toy critics store ``critic.net.<i>.weight`` with a leading member dimension of 1; 1-D
    ``.weight`` tensors are normalisation gains, not connection weights, and are skipped.
    """
    parts = [
        tensor.detach().float().flatten().cpu().numpy()
        for name, tensor in state.items()
        if name.startswith(CRITIC_PREFIX) and name.endswith(".weight")
        and tensor.squeeze(0).dim() >= 2
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def load_critic_weights(run_dir: Path) -> np.ndarray | None:
    """The critic weights of a stored run, or None when it saved no models."""
    path = Path(run_dir) / "models.pt"
    if not path.is_file():
        return None
    return critic_weights(torch.load(path, weights_only=True, map_location="cpu"))


def piled_fraction(weights: np.ndarray, clip_value: float, tolerance: float) -> float:
    """Fraction of ``weights`` within ``tolerance * c`` of +c or -c, i.e. with
    | |w| - c | <= tolerance * c. An unclipped critic's weights far beyond c are not piled at
    it. NaN for no weights or non-finite ones (a diverged critic)."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or not np.isfinite(w).all():
        return float("nan")
    return float(np.mean(np.abs(np.abs(w) - clip_value) <= tolerance * clip_value))
