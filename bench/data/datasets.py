"""Every dataset as one declaration: its shape, its modes and the metrics that apply to it.

The trainer, workload, evaluator, report and claims ask a ``Dataset`` what it has and never
look at its name: which networks and recipes fit (``domain``), what a sample looks like
(``shape``), how modes are counted (``modes``: the centres of a Gaussian mixture, or a
classifier applied to every channel) and which registered metrics are computed
(``metrics``; names in ``bench.metrics.registry``).
"""

from dataclasses import dataclass

from bench.core.errors import BenchError
from bench.core.specs import IMAGE, TOY
from bench.data.images import IMAGE_SOURCES
from bench.data.toy import TOY_DATASETS, GaussianMixture


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
    """Registered metrics that apply (``bench.metrics.registry``); a metric that needs what a
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
    data = TOY_DATASETS[name]
    if isinstance(data, GaussianMixture):
        return Dataset(name, data.description, TOY, (2,), MixtureModes(data.centers, data.std),
                       (*POINT_METRICS, "mixture_modes"), "points")
    return Dataset(name, data.description, TOY, (2,), None, POINT_METRICS, "points")


def _image(name: str, modes: Modes | None) -> Dataset:
    source = IMAGE_SOURCES[name]
    digits = isinstance(modes, ClassifierModes)
    return Dataset(name, source.description, IMAGE, source.shape, modes,
                   DIGIT_METRICS if digits else IMAGE_METRICS, "digits" if digits else None)


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    _toy("ring8"),
    _toy("grid25"),
    _toy("swissroll"),
    _toy("ring8-pacgan"),
    _toy("grid25-pacgan"),
    _image("digits", ClassifierModes(channels=1)),
    _image("stacked-digits", ClassifierModes(channels=3)),
    _image("mnist", ClassifierModes(channels=1)),
    _image("fashion-mnist", None),
    _image("stacked-mnist", ClassifierModes(channels=3)),
    _image("cifar10", None),
)}


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name``; a BenchError lists the valid names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise BenchError(f"unknown dataset '{name}'; valid: {', '.join(DATASETS)}") from None
