"""Every dataset as one declaration: its shape, its modes and the metrics that apply to it.

The trainer, workload, evaluator, report and claims ask a ``Dataset`` what it has and never
look at its name: which networks and recipes fit (``domain``), what a sample looks like
(``shape``), how modes are counted (``modes``: the centres of a Gaussian mixture, or a
classifier applied to every channel) and which registered metrics are computed
(``metrics``; names in ``bench.metrics.declarations``). Plain values, no torch: the samplers
live in ``toy.py`` and ``images.py``.
"""

from dataclasses import dataclass

from bench.core.errors import BenchError
from bench.core.specs import IMAGE, TOY
from bench.data.toy_layouts import TOY_LAYOUTS, MixtureLayout


@dataclass(frozen=True)
class MixtureModes:
    """Modes are the centres of an isotropic Gaussian mixture (VEEGAN/PacGAN protocol)."""

    centers: tuple[tuple[float, ...], ...]
    std: float

    @property
    def n_modes(self) -> int:
        return len(self.centers)


@dataclass(frozen=True)
class ClassifierModes:
    """Modes are the class tuples the digits classifier assigns to an image's channels, one
    digit per channel (PacGAN's Stacked-MNIST protocol: 3 channels, 1000 modes)."""

    channels: int
    classes: int = 10

    @property
    def n_modes(self) -> int:
        return self.classes**self.channels


Modes = MixtureModes | ClassifierModes


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    domain: str
    """``toy`` (2-D points) or ``image``."""
    shape: tuple[int, ...]
    """One sample's shape: (2,) for points, (channels, height, width) for images."""
    modes: Modes | None
    """How modes are counted, or None (no modes, e.g. the swiss roll, CIFAR-10)."""
    metrics: tuple[str, ...]
    """Declared metrics that apply (``bench.metrics.declarations``); a metric that needs what a
    run lacks (FID without ``eval.fid_samples``) is skipped by the evaluator."""
    features: str | None
    """The dataset's own feature extractor for feature metrics (precision/recall, density/
    coverage) when no Inception features are computed: ``points`` (the samples themselves),
    ``digits`` (the digits classifier) or None."""

    @property
    def is_points(self) -> bool:
        """Samples are 2-D points: scatter plots and critic contours apply."""
        return self.shape == (2,)


POINT_METRICS = ("w1", "precision_recall", "density_coverage")
DIGIT_METRICS = ("fd_digits", "classifier_modes", "fid", "kid", "inception_score",
                 "precision_recall", "density_coverage")
IMAGE_METRICS = ("fid", "kid", "inception_score", "precision_recall", "density_coverage")


def _toy(name: str) -> Dataset:
    data = TOY_LAYOUTS[name]
    if isinstance(data, MixtureLayout):
        return Dataset(name, data.description, TOY, (2,), MixtureModes(data.centers, data.std),
                       (*POINT_METRICS, "mixture_modes"), "points")
    return Dataset(name, data.description, TOY, (2,), None, POINT_METRICS, "points")


def _image(name: str, description: str, shape: tuple[int, int, int],
           modes: Modes | None) -> Dataset:
    digits = isinstance(modes, ClassifierModes)
    return Dataset(name, description, IMAGE, shape, modes,
                   DIGIT_METRICS if digits else IMAGE_METRICS, "digits" if digits else None)


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    _toy("ring8"),
    _toy("grid25"),
    _toy("swissroll"),
    _toy("ring8-pacgan"),
    _toy("grid25-pacgan"),
    _image("digits", "scikit-learn 8x8 digits upsampled to 16x16, offline", (1, 16, 16),
           ClassifierModes(channels=1)),
    _image("stacked-digits", "3 digits as RGB, 16x16x3, 1000 modes, offline", (3, 16, 16),
           ClassifierModes(channels=3)),
    _image("mnist", "MNIST 28x28", (1, 28, 28), ClassifierModes(channels=1)),
    _image("fashion-mnist", "Fashion-MNIST 28x28", (1, 28, 28), None),
    _image("stacked-mnist", "3 MNIST digits as RGB, 28x28x3, 1000 modes", (3, 28, 28),
           ClassifierModes(channels=3)),
    _image("cifar10", "CIFAR-10 32x32x3", (3, 32, 32), None),
)}


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name``; a BenchError lists the valid names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise BenchError(f"unknown dataset '{name}'; valid: {', '.join(DATASETS)}") from None
