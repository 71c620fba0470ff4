"""Image datasets: the offline digits sets, and the torchvision loading path on small files
written here in each dataset's own on-disk format."""

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets

from bench.core.errors import BenchError
from bench.data import get_dataset
from bench.data.images import DATA_ROOT_ENV, load_image_dataset


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file as on LeCun's MNIST page: 2 zero bytes, type 0x08 (ubyte), the number of
    dimensions, each dimension as a big-endian uint32, then the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str, n_train: int = 12, n_test: int = 5) -> dict:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0] = 0  # one black and one white image pin down the scaling
        images[1] = 255
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(root / folder / "raw" / f"{split}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{split}-labels-idx1-ubyte", labels)
        arrays[split] = (images, labels)
    return arrays


def write_cifar10(root: Path, per_batch: int = 4) -> dict:
    """CIFAR-10's python version: pickled dicts with 'data' (uint8 [n, 3072], the R, G and B
    planes of each image in turn) and 'labels', in cifar-10-batches-py/."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        entry = {
            "batch_label": name,
            "labels": labels,
            "data": data,
            "filenames": [f"{name}_{i}.png" for i in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        batches[name] = (data, labels)
    meta = {
        "label_names": [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ],
        "num_vis": 3072,
        "num_cases_per_batch": 4,
    }
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


# --- offline digits -------------------------------------------------------------------------


def test_digits_splits_shapes_and_range():
    train = load_image_dataset("digits", train=True)
    test = load_image_dataset("digits", train=False)
    assert train.images.shape == (1437, 1, 16, 16) and test.images.shape == (360, 1, 16, 16)
    assert (train.channels, train.size) == (1, 16)
    assert get_dataset("digits").modes.n_modes == 10
    for ds in (train, test):
        assert ds.images.dtype == torch.float32 and ds.labels.dtype == torch.int64
        assert ds.images.min() == -1.0 and ds.images.max() == 1.0
        assert set(ds.labels.tolist()) == set(range(10))
    # every image's background is the darkest value: -1 in the corners
    assert (train.images[:, :, 0, 0] == -1).float().mean() > 0.9
    again = load_image_dataset("digits", train=True)
    assert torch.equal(again.images, train.images) and torch.equal(again.labels, train.labels)


def test_stacked_digits_channels_are_digits_of_the_label():
    digits = load_image_dataset("digits", train=True)
    stacked = load_image_dataset("stacked-digits", stacked_count=300, stacked_seed=3)
    assert stacked.images.shape == (300, 3, 16, 16)
    assert get_dataset("stacked-digits").modes.n_modes == 1000
    assert stacked.images.min() >= -1 and stacked.images.max() <= 1
    for i in range(0, 300, 37):
        for c, digit in enumerate(f"{stacked.labels[i].item():03d}"):
            matches = (digits.images[:, 0] == stacked.images[i, c]).flatten(1).all(dim=1)
            assert matches.any() and (digits.labels[matches] == int(digit)).all()


def test_stacked_digits_covers_all_1000_modes_and_is_seeded():
    a = load_image_dataset("stacked-digits", stacked_count=20_000, stacked_seed=0)
    assert a.labels.unique().numel() == 1000 and a.labels.min() >= 0 and a.labels.max() <= 999
    b = load_image_dataset("stacked-digits", stacked_count=20_000, stacked_seed=0)
    c = load_image_dataset("stacked-digits", stacked_count=20_000, stacked_seed=1)
    assert torch.equal(a.images, b.images) and not torch.equal(a.labels, c.labels)
    test = load_image_dataset("stacked-digits", train=False, stacked_count=100)
    assert test.images.shape == (100, 3, 16, 16)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(BenchError, match="valid: digits, stacked-digits, mnist"):
        load_image_dataset("svhn")


# --- torchvision: MNIST-style IDX files -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")]
)
def test_idx_datasets_load_through_torchvision(tmp_path, name, folder):
    arrays = write_mnist(tmp_path, folder)
    for train, split in ((True, "train"), (False, "t10k")):
        ds = load_image_dataset(name, data_root=tmp_path, train=train)
        images, labels = arrays[split]
        assert ds.images.shape == (len(labels), *get_dataset(name).shape)
        assert torch.equal(ds.labels, torch.from_numpy(labels).long())
        expected = torch.from_numpy(images).float().unsqueeze(1) / 127.5 - 1
        assert torch.allclose(ds.images, expected)
        assert ds.images[0].max() == -1.0 and ds.images[1].min() == 1.0


def test_stacked_mnist_from_idx_files(tmp_path):
    images, labels = write_mnist(tmp_path, "MNIST")["train"]
    ds = load_image_dataset("stacked-mnist", data_root=tmp_path, stacked_count=50)
    assert ds.images.shape == (50, *get_dataset("stacked-mnist").shape)
    assert get_dataset("stacked-mnist").modes.n_modes == 1000
    expected = torch.from_numpy(images).float() / 127.5 - 1
    for i in range(50):
        for c, digit in enumerate(f"{ds.labels[i].item():03d}"):
            matches = (expected == ds.images[i, c]).flatten(1).all(dim=1).numpy()
            assert matches.any() and (labels[matches] == int(digit)).all()


def test_data_root_from_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path, "MNIST")
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path))
    assert len(load_image_dataset("mnist", data_root=None)) == 12


def test_missing_files_error_names_path_and_fixes(tmp_path):
    with pytest.raises(BenchError) as info:
        load_image_dataset("mnist", data_root=tmp_path)
    message = str(info.value)
    for part in (
        str(tmp_path / "MNIST" / "raw"),
        "train-images-idx3-ubyte",
        "--data-root",
        DATA_ROOT_ENV,
        "--download",
        "torchvision.datasets.MNIST",
        "https://",
    ):
        assert part in message
    assert "\n" not in message


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    # a closed local port stands in for "no network"; torchvision's real download code runs
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(BenchError, match="could not be downloaded") as info:
        load_image_dataset("mnist", data_root=tmp_path, download=True)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)


def test_malformed_idx_file_is_a_clear_error(tmp_path):
    write_mnist(tmp_path, "MNIST")
    raw = tmp_path / "MNIST" / "raw"
    # a label file where the images should be: 1 dimension, not 3
    (raw / "train-images-idx3-ubyte").write_bytes((raw / "train-labels-idx1-ubyte").read_bytes())
    with pytest.raises(BenchError, match="cannot read the IDX files"):
        load_image_dataset("mnist", data_root=tmp_path)


# --- CIFAR-10 python batches ----------------------------------------------------------------


def test_cifar10_batches_load_and_warn_about_unofficial_files(tmp_path):
    batches = write_cifar10(tmp_path)
    with pytest.warns(UserWarning, match="md5 mismatch"):
        train = load_image_dataset("cifar10", data_root=tmp_path, train=True)
    assert train.images.shape == (20, 3, 32, 32) and (train.channels, train.size) == (3, 32)
    data, labels = batches["data_batch_2"]
    first = torch.from_numpy(data[0]).float() / 127.5 - 1
    assert torch.equal(train.images[4, 0].flatten(), first[:1024])  # R plane first
    assert torch.equal(train.images[4, 2].flatten(), first[2048:])
    assert train.labels[4:8].tolist() == labels
    with pytest.warns(UserWarning):
        test = load_image_dataset("cifar10", data_root=tmp_path, train=False)
    assert test.labels.tolist() == batches["test_batch"][1]


def test_cifar10_missing_and_failed_download(tmp_path, monkeypatch):
    with pytest.raises(BenchError, match="missing data_batch_1") as info:
        load_image_dataset("cifar10", data_root=tmp_path)
    assert str(tmp_path / "cifar-10-batches-py") in str(info.value)
    assert "--download" in str(info.value) and "cifar-10-python.tar.gz" in str(info.value)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "url", "http://127.0.0.1:9/c.tar.gz")
    with pytest.raises(BenchError, match="could not be downloaded"):
        load_image_dataset("cifar10", data_root=tmp_path, download=True)


def test_cifar10_reader_refuses_pickles_that_run_code(tmp_path):
    write_cifar10(tmp_path)

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({"data": Payload()}))
    with pytest.raises(BenchError, match="unexpected object"), pytest.warns(UserWarning):
        load_image_dataset("cifar10", data_root=tmp_path, train=False)
