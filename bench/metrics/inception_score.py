"""The Inception Score (Salimans et al. 2016) by torch-fidelity's protocol.

IS = exp(E_x KL(p(y|x) || p(y))) over the FID Inception network's 1008-way logits without the
fc bias (``logits_unbiased``: the original TensorFlow code's pool3 @ W), in float64: the
samples are shuffled by numpy's RandomState(2020) permutation, cut into 10 splits, and the
score is the mean and (population) standard deviation of the splits' scores. The protocol
name says so: ``is<N>_tfidelity_10splits``.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

SPLITS = 10
SHUFFLE_SEED = 2020


@dataclass(frozen=True)
class InceptionScore:
    mean: float
    std: float


def inception_score(logits: Tensor, splits: int = SPLITS,
                    shuffle_seed: int = SHUFFLE_SEED) -> InceptionScore:
    """IS of ``logits`` [N, classes] (N >= splits)."""
    n = len(logits)
    if n < splits:
        raise ValueError(f"the Inception Score needs at least {splits} samples, got {n}")
    order = torch.from_numpy(np.random.RandomState(shuffle_seed).permutation(n))
    logits = logits[order.to(logits.device)].double()
    log_p = logits.log_softmax(dim=1)
    p = log_p.exp()
    scores = []
    for i in range(splits):
        part = slice(i * n // splits, (i + 1) * n // splits)
        log_q = p[part].mean(dim=0, keepdim=True).log()
        kl = (p[part] * (log_p[part] - log_q)).sum(dim=1).mean()
        scores.append(kl.exp())
    scores = torch.stack(scores)
    return InceptionScore(float(scores.mean()), float(scores.std(correction=0)))
