"""The feature extractors a run's metrics need, built once per group.

``points``: the 2-D samples themselves. ``digits`` / ``digit_labels``: the digits
classifier's penultimate features / the class of every channel. ``inception``: pytorch-fid's
pool3 features, only when the run computes FID (``eval.fid_samples`` > 0), and
``inception_logits``: the same network's 1008-way logits of the images as torch-fidelity feeds
them (for the Inception Score; a pass of its own, since the input differs). A metric asking
for ``best`` gets Inception when it is there, else the dataset's own extractor.
"""

from collections.abc import Callable

import torch
from torch import Tensor

from bench.core.environment import Environment
from bench.core.specs import EvalSpec
from bench.data import Dataset
from bench.metrics.extractor_names import (
    BEST,
    DIGIT_LABELS,
    DIGITS,
    INCEPTION,
    INCEPTION_LOGITS,
    INCEPTION_NETWORK,
    POINTS,
)
from bench.metrics.registry import METRICS

FEATURE_BATCH = 200
"""Images per forward pass of an eval-mode extractor: bounds memory, not the result."""

Extract = Callable[[Tensor], Tensor]


class Extractors:
    """Name -> function of samples [N, ...] -> features [N, D] (or labels [N, C]), and the
    cache key of each extractor's reference statistics."""

    def __init__(
        self, dataset: Dataset, spec: EvalSpec, device: torch.device, env: Environment,
        channels_last: bool = False, batch_size: int = FEATURE_BATCH,
    ) -> None:
        self.dataset, self.env = dataset, env
        self.functions: dict[str, Extract] = {}
        self.keys: dict[str, dict] = {}
        if dataset.features == POINTS:
            self.functions[POINTS] = lambda x: x.flatten(1)
        if dataset.features == DIGITS:
            from bench.metrics.digits_classifier import load_digits_classifier

            classifier = load_digits_classifier(cache_dir=env.resolved_cache_dir(),
                                                device=device)
            self.functions[DIGITS] = lambda x: classifier.features(x, batch_size)
            self.functions[DIGIT_LABELS] = lambda x: classifier.predict(x, batch_size)
            self.keys[DIGITS] = {"extractor": "digits-cnn", "classifier": classifier.settings.key()}
        wants_inception = any(METRICS[m].extractor in INCEPTION_NETWORK
                              for m in dataset.metrics)
        if spec.fid_samples and wants_inception:
            from bench.features.fid_inception import (
                InceptionScoreLogits,
                all_features,
                load_fid_inception,
                resolve_weights_path,
                sha256_file,
            )

            weights = resolve_weights_path(env.fid_weights, download=env.download)
            inception = load_fid_inception(weights, device=device, input_range=(-1, 1),
                                           channels_last=channels_last)
            score_logits = InceptionScoreLogits(inception)
            self.functions[INCEPTION] = lambda x: all_features(inception, x, batch_size)
            self.functions[INCEPTION_LOGITS] = lambda x: all_features(score_logits, x, batch_size)
            self.keys[INCEPTION] = {"extractor": "pytorch-fid-inception-pool3",
                                    "weights_sha256": sha256_file(weights)}

    def resolve(self, name: str) -> str | None:
        """The extractor a metric asking for ``name`` gets, or None when there is none."""
        if name == BEST:
            name = INCEPTION if INCEPTION in self.functions else self.dataset.features
        return name if name in self.functions else None

    def __call__(self, name: str, samples: Tensor) -> Tensor:
        return self.functions[name](samples)
