"""A small CNN trained on the ``digits`` training split, for offline image metrics.

It gives (a) penultimate-layer features, for a Frechet distance in its feature space
(``fd_digits``) where the Inception weights are absent, and (b) the digit of every channel,
from which ``bench.metrics.modes.class_modes`` counts modes as PacGAN does on stacked
images: each channel classified on its own, the three digits naming one of 1000 modes.

Training is deterministic and always on the CPU (a few seconds on 2 cores), so the cached
weights do not depend on which accelerator a machine has. The cache holds a state dict and
JSON metadata (settings, held-out accuracy on the test split) under a hash of the settings.

Inputs of another size than 16 px (e.g. stacked MNIST at 28 px) are resized bilinearly with
antialiasing. MNIST digits are drawn differently from scikit-learn's, so counts on stacked
MNIST are not comparable with published ones, which use an MNIST-trained classifier.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.core.atomic import atomic_write
from bench.core.environment import Environment
from bench.data.images import DIGITS_SIZE, load_image_dataset

_FORMAT = 1
"""Part of the cache key: bump it when the network or the training procedure changes."""
BATCH = 2048
"""Channel images per forward pass by default."""


@dataclass(frozen=True)
class ClassifierSettings:
    """Everything that decides the trained weights (hashed into the cache key)."""

    seed: int = 0
    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    """Adam learning rate."""
    width: int = 32
    """Filters of the first conv layer; the second has twice as many."""
    feature_dim: int = 64
    """Width of the penultimate layer, the feature space of ``fd-digits``."""

    def key(self) -> str:
        blob = json.dumps({**asdict(self), "format": _FORMAT}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


DEFAULT_SETTINGS = ClassifierSettings()


class DigitsCNN(nn.Module):
    """[B, 1, 16, 16] -> logits [B, 10]; ``features`` stops before the last layer."""

    def __init__(self, width: int, feature_dim: int) -> None:
        super().__init__()
        # strided convs rather than conv + max-pool: as accurate here, and 3x cheaper on a CPU
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),  # 8x8
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),  # 4x4
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * width * 16, feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, 10)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def _classifier_size(images: Tensor) -> Tensor:
    if images.shape[-1] == DIGITS_SIZE and images.shape[-2] == DIGITS_SIZE:
        return images
    return F.interpolate(
        images, size=DIGITS_SIZE, mode="bilinear", align_corners=False, antialias=True
    )


@dataclass(frozen=True, eq=False)
class DigitsClassifier:
    """A trained DigitsCNN in eval mode, with where it came from."""

    model: DigitsCNN
    settings: ClassifierSettings
    test_accuracy: float
    """Accuracy on the 360 held-out ``digits`` test images."""
    from_cache: bool

    @torch.no_grad()
    def _per_channel(self, images: Tensor, fn: Callable[[Tensor], Tensor],
                     batch_size: int) -> Tensor:
        """fn on every channel of [B, C, H, W] as its own 1-channel image -> [B, C, ...],
        ``batch_size`` channel images at a time (memory only: the network is in eval mode)."""
        b, c, h, w = images.shape
        device = next(self.model.parameters()).device
        flat = images.reshape(b * c, 1, h, w)
        out = torch.cat([fn(_classifier_size(chunk.to(device, torch.float32)))
                         for chunk in flat.split(batch_size)])
        return out.view(b, c, *out.shape[1:])

    def features(self, images: Tensor, batch_size: int = BATCH) -> Tensor:
        """Penultimate features [B, C * feature_dim] of images [B, C, H, W] in [-1, 1]; the
        channels of stacked images are embedded one by one and concatenated."""
        return self._per_channel(images, self.model.features, batch_size).flatten(1)

    def predict(self, images: Tensor, batch_size: int = BATCH) -> Tensor:
        """Digit of every channel: [B, C, H, W] -> int64 [B, C]."""
        return self._per_channel(images, lambda x: self.model(x).argmax(dim=1), batch_size)


@contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    """Seeded, deterministic kernels on one thread, restoring the process's settings after.

    One thread because CPU kernels may split reductions by thread count, and the cached
    weights must not depend on how many cores trained them; the net is small enough.
    """
    previous = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(previous, warn_only=warn_only)


def _accuracy(model: DigitsCNN, images: Tensor, labels: Tensor) -> float:
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).double().mean().item()


def train_digits_classifier(settings: ClassifierSettings) -> tuple[DigitsCNN, float]:
    """Train on the digits training split on the CPU; returns (model, test-split accuracy)."""
    train = load_image_dataset("digits", train=True)
    test = load_image_dataset("digits", train=False)
    with _deterministic(settings.seed):
        model = DigitsCNN(settings.width, settings.feature_dim)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
        order = torch.Generator().manual_seed(settings.seed)
        for _ in range(settings.epochs):
            for idx in torch.randperm(len(train), generator=order).split(settings.batch_size):
                loss = F.cross_entropy(model(train.images[idx]), train.labels[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    model.eval()
    return model, _accuracy(model, test.images, test.labels)


def load_digits_classifier(
    *,
    cache_dir: Path | None = None,
    settings: ClassifierSettings = DEFAULT_SETTINGS,
    device: torch.device | str = "cpu",
) -> DigitsClassifier:
    """The classifier for ``settings`` from ``cache_dir`` (default ``$GANBENCH_CACHE_DIR``,
    else ``~/.cache/ganbench``), training and caching it on a miss."""
    root = Environment(cache_dir=cache_dir).resolved_cache_dir()
    folder = root / "digits-classifier"
    weights, meta_path = folder / f"{settings.key()}.pt", folder / f"{settings.key()}.json"
    # the JSON is written last, so its presence means the weights are complete
    if meta_path.is_file() and weights.is_file():
        with torch.random.fork_rng(devices=[]):  # the throwaway init must not move the caller's RNG
            model = DigitsCNN(settings.width, settings.feature_dim)
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        accuracy = json.loads(meta_path.read_text())["test_accuracy"]
        from_cache = True
    else:
        model, accuracy = train_digits_classifier(settings)
        meta = {
            "settings": asdict(settings),
            "format": _FORMAT,
            "test_accuracy": accuracy,
            "test_split": "digits, 360 held-out images",
            "torch": torch.__version__,
        }
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(weights, lambda tmp: torch.save(model.state_dict(), tmp))
        atomic_write(meta_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=2)))
        from_cache = False
    model.eval().requires_grad_(False)
    return DigitsClassifier(model.to(device), settings, accuracy, from_cache)
