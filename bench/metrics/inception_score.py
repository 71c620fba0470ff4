"""The Inception Score (Salimans et al. 2016) by torch-fidelity's protocol, computed by
torch-fidelity's own ``isc_features_to_metric``.

IS = exp(E_x KL(p(y|x) || p(y))) over the FID Inception network's 1008-way logits without the
fc bias (``logits_unbiased``: the original TensorFlow code's pool3 @ W) of the images as
torch-fidelity feeds them (8-bit pixels, TensorFlow 1's bilinear resize:
``bench.features.fid_inception.InceptionScoreLogits``), in float64: the samples are shuffled
by numpy's RandomState(2020) permutation, cut into 10 splits, and the score is the mean and
(population) standard deviation of the splits' scores. The protocol name says so:
``is<N>_tfidelity_u8_10splits``.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the metric declarations read SPLITS without torch
    from torch import Tensor

SPLITS = 10
SHUFFLE_SEED = 2020
"""torch-fidelity's defaults (``isc_splits``, ``rng_seed``)."""


@dataclass(frozen=True)
class InceptionScore:
    mean: float
    std: float


def inception_score(logits: "Tensor", splits: int = SPLITS,
                    shuffle_seed: int = SHUFFLE_SEED) -> InceptionScore:
    """IS of ``logits`` [N, classes] (N >= splits)."""
    n = len(logits)
    if n < splits:  # torch-fidelity would average empty splits into NaN
        raise ValueError(f"the Inception Score needs at least {splits} samples, got {n}")
    # imported here: torch-fidelity's package loads torchvision (~1 s), and the registry
    # importing this module is loaded by the report side too
    from torch_fidelity.metric_isc import (
        KEY_METRIC_ISC_MEAN,
        KEY_METRIC_ISC_STD,
        isc_features_to_metric,
    )

    score = isc_features_to_metric(logits, splits=splits, shuffle=True, rng_seed=shuffle_seed)
    return InceptionScore(score[KEY_METRIC_ISC_MEAN], score[KEY_METRIC_ISC_STD])
