"""Image datasets, each held as one tensor on the training device.

Every dataset loads into ``images`` [N, C, H, W] float32 in [-1, 1] plus int64 ``labels`` [N],
so the trainer samples batches by indexing, with no per-step CPU data loading.

- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline), upsampled
  bilinearly to 16x16, 1 channel, 10 modes. A fixed permutation puts 80% (1,437 images) in the
  training split and the rest (360) in the test split.
- ``stacked-digits``: three random ``digits`` images of the same split stacked as RGB channels,
  16x16x3, 1000 modes (label ``100*d0 + 10*d1 + d2``): the Stacked-MNIST protocol of
  VEEGAN/PacGAN on offline data.
- ``mnist``, ``fashion-mnist``: torchvision's IDX readers, native 28x28, 1 channel.
- ``stacked-mnist``: three MNIST digits stacked as RGB, native 28x28 (no padding or resizing;
  the DCGANs here handle 28 px), 1000 modes.
- ``cifar10``: CIFAR-10's python pickle batches, 32x32x3, 10 classes.

The torchvision datasets are read from ``<data_root>`` (the ``--data-root`` flag, else the
``GANBENCH_DATA_ROOT`` environment variable, else ``~/.cache/ganbench/data``) in torchvision's
own layout. ``download`` defaults to False: CI machines are offline, and a silent download try
there only adds connection timeouts before the same error; users with a network pass
``--download`` once.
"""

import os
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from bench.core.errors import BenchError

DATA_ROOT_ENV = "GANBENCH_DATA_ROOT"
DEFAULT_DATA_ROOT = Path("~/.cache/ganbench/data")

DIGITS_SIZE = 16
DIGITS_SPLIT_SEED = 0
DIGITS_TRAIN_FRACTION = 0.8

STACKED_COUNT = 50_000
"""Default size of the stacked datasets: 50 images per mode on average, so every one of the
1000 modes is present (P(a mode is missing) ~ 1000 * e^-50), while stacked-digits takes 154 MB
as float32 and stacked-mnist 470 MB, which fit a 2-core CI machine's memory and any GPU."""


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A whole image dataset on one device."""

    name: str
    images: Tensor
    """[N, C, H, W] float32 in [-1, 1]."""
    labels: Tensor
    """[N] int64: the class, or for stacked datasets the mode 100*d0 + 10*d1 + d2."""

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    def __len__(self) -> int:
        return self.images.shape[0]


def resolve_data_root(data_root: Path | None) -> Path:
    """``data_root`` if given, else ``$GANBENCH_DATA_ROOT``, else ``~/.cache/ganbench/data``."""
    if data_root is None:
        data_root = Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT)
    return Path(data_root).expanduser()


# Readers return uint8 images [N, C, H, W] and int64 labels on the CPU; conversion to float
# happens once, on the target device, so host memory holds 1 byte per pixel.
Reader = Callable[[Path, bool, bool], tuple[Tensor, Tensor]]


def _read_digits(root: Path, train: bool, download: bool) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits  # here: sklearn costs toy-only workers seconds

    bunch = load_digits()
    # pixel values are 0..16; resize first, then quantise to 8 bits like the other datasets
    small = torch.from_numpy(bunch.images).float().unsqueeze(1) * (255.0 / 16.0)
    big = F.interpolate(small, size=DIGITS_SIZE, mode="bilinear", align_corners=False)
    images = big.round().clamp(0, 255).to(torch.uint8)
    labels = torch.from_numpy(bunch.target).long()
    order = torch.from_numpy(np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels)))
    n_train = int(DIGITS_TRAIN_FRACTION * len(labels))
    split = order[:n_train] if train else order[n_train:]
    return images[split], labels[split]


def _unavailable(
    name: str, problem: str, root: Path, layout: str, source: str, offer_download: bool
) -> BenchError:
    fix = f"pass --data-root DIR (or set ${DATA_ROOT_ENV}=DIR) where DIR/{layout} holds them"
    if offer_download:
        fix += ", or rerun with --download to fetch them"
    return BenchError(
        f"dataset '{name}' {problem}. Expected the files in {root / layout}: {fix} "
        f"(source: {source})."
    )


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())[:300]


def _idx_reader(name: str, dataset_cls_name: str) -> Reader:
    """MNIST-style datasets: torchvision reads the uncompressed IDX files in
    ``<root>/<ClassName>/raw`` (it checks only that they exist, not their md5)."""

    def read(root: Path, train: bool, download: bool) -> tuple[Tensor, Tensor]:
        # imported here so the offline datasets work where torchvision cannot load
        import torchvision.datasets

        cls = getattr(torchvision.datasets, dataset_cls_name)
        layout = f"{dataset_cls_name}/raw"
        folder = root / layout
        files = [folder / Path(gz).stem for gz, _md5 in cls.resources]
        source = (
            f"torchvision.datasets.{dataset_cls_name}; the *-ubyte.gz files at "
            f"{cls.mirrors[0]}, gunzipped"
        )
        missing = [f.name for f in files if not f.is_file()]
        if missing and not download:
            problem = f"is not available: missing {', '.join(missing)}"
            raise _unavailable(name, problem, root, layout, source, offer_download=True)
        try:
            ds = cls(str(root), train=train, download=download)
        except (RuntimeError, OSError) as err:  # download failures (URLError is an OSError)
            problem = f"could not be downloaded ({_one_line(err)})"
            raise _unavailable(name, problem, root, layout, source, offer_download=False) from err
        except (AssertionError, TypeError, ValueError) as err:  # malformed IDX header or data
            msg = f"dataset '{name}': cannot read the IDX files in {folder}: {err!r}"
            raise BenchError(msg) from err
        return ds.data.unsqueeze(1), ds.targets.long()

    return read


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR batches hold (dicts, lists, numpy arrays): a pickle from a
    data folder must not be able to run arbitrary code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    with path.open("rb") as f:
        entry = _ArrayUnpickler(f, encoding="latin1").load()
    data, labels = entry["data"], entry["labels"]
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"'data' is {data.dtype} {data.shape}, expected uint8 [n, 3072]")
    if len(labels) != data.shape[0] or not all(0 <= y < 10 for y in labels):
        raise ValueError("'labels' must hold one class in 0..9 per image")
    return data, labels


def _read_cifar10(root: Path, train: bool, download: bool) -> tuple[Tensor, Tensor]:
    """CIFAR-10 through our own reader of its pickle batches.

    torchvision's CIFAR10 refuses any file whose md5 differs from the official release, so it
    could never read the small files the tests write in the same format. We therefore use
    torchvision only to download (it verifies the archive's md5), read the batches ourselves,
    and warn when their md5s differ from the official ones torchvision lists.
    """
    import torchvision.datasets
    from torchvision.datasets.utils import check_integrity

    cls = torchvision.datasets.CIFAR10
    layout = cls.base_folder
    folder = root / layout
    batches = cls.train_list if train else cls.test_list
    source = f"torchvision.datasets.CIFAR10; {cls.url}, extracted"
    missing = [name for name, _md5 in batches if not (folder / name).is_file()]
    if missing and not download:
        problem = f"is not available: missing {', '.join(missing)}"
        raise _unavailable("cifar10", problem, root, layout, source, offer_download=True)
    if missing:
        try:
            cls(str(root), train=train, download=True)
        except (RuntimeError, OSError) as err:
            problem = f"could not be downloaded ({_one_line(err)})"
            raise _unavailable("cifar10", problem, root, layout, source, False) from err
    unofficial = [name for name, md5 in batches if not check_integrity(folder / name, md5)]
    if unofficial:
        warnings.warn(
            f"cifar10: {', '.join(unofficial)} in {folder} differ from the official release "
            "(md5 mismatch); scores will not be comparable with published ones",
            stacklevel=3,
        )
    arrays, labels = [], []
    for name, _md5 in batches:
        try:
            data, batch_labels = _read_cifar_batch(folder / name)
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as err:
            raise BenchError(f"dataset 'cifar10': cannot read {folder / name}: {err}") from err
        arrays.append(data)
        labels.extend(batch_labels)
    # rows are the R, G, B planes of a 32x32 image, one after another: already CHW
    images = torch.from_numpy(np.concatenate(arrays)).reshape(-1, 3, 32, 32)
    return images, torch.tensor(labels, dtype=torch.long)


def _stack_channels(images: Tensor, labels: Tensor, count: int, seed: int) -> tuple[Tensor, Tensor]:
    """``count`` images made of three random single-channel images as R, G, B."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(labels), (count, 3), generator=gen)
    stacked = images[idx, 0]  # [count, 3, H, W]
    modes = (labels[idx] * torch.tensor([100, 10, 1])).sum(dim=1)
    return stacked, modes


@dataclass(frozen=True)
class _Source:
    read: Reader
    stacked: bool = False
    """Three random single-channel images as R, G, B (the shape is the dataset's declaration,
    ``datasets.py``)."""


IMAGE_SOURCES: dict[str, _Source] = {
    "digits": _Source(_read_digits),
    "stacked-digits": _Source(_read_digits, stacked=True),
    "mnist": _Source(_idx_reader("mnist", "MNIST")),
    "fashion-mnist": _Source(_idx_reader("fashion-mnist", "FashionMNIST")),
    "stacked-mnist": _Source(_idx_reader("mnist", "MNIST"), stacked=True),
    "cifar10": _Source(_read_cifar10),
}


def load_image_dataset(
    name: str,
    *,
    data_root: Path | None = None,
    train: bool = True,
    download: bool = False,
    stacked_count: int = STACKED_COUNT,
    stacked_seed: int = 0,
    device: torch.device | str = "cpu",
) -> ImageDataset:
    """Load dataset ``name`` onto ``device`` as float32 in [-1, 1].

    ``train`` picks the training or test split. ``download`` lets torchvision fetch absent
    files; without it, absent files raise a BenchError that says where they were expected and
    how to provide them. ``stacked_count`` and ``stacked_seed`` set how many stacked images
    are drawn, and from which stream, for the stacked datasets (ignored by the others).
    """
    source = IMAGE_SOURCES.get(name)
    if source is None:
        raise BenchError(f"unknown image dataset '{name}'; valid: {', '.join(IMAGE_SOURCES)}")
    images, labels = source.read(resolve_data_root(data_root), train, download)
    if source.stacked:
        if stacked_count < 1:
            raise BenchError(f"stacked_count must be positive, got {stacked_count}")
        images, labels = _stack_channels(images, labels, stacked_count, stacked_seed)
    # convert on the device: the float copy never exists on the host when device is a GPU
    images = images.to(device).float().div_(127.5).sub_(1.0)
    return ImageDataset(name, images, labels.to(device))
