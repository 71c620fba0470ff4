"""The FID Inception network and its weight loading, on a random-valued state dict.

The real weights cannot be downloaded here, so the tests write a state dict with the
published keys and shapes but random values, and load it through the real loading path
(with ``expected_sha256`` set to that file's digest). pytorch-fid gets the same state dict
in place of its download, so both networks compute the same arithmetic. The CPU forward
pass is slow at 299x299, so the module runs it on two tiny images only a few times.
"""

import hashlib
from importlib import metadata
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from pytorch_fid import fid_score, inception
from torchvision.models.inception import InceptionE

from bench.core.errors import BenchError
from bench.features import fid_inception
from bench.features.fid_inception import (
    FEATURE_DIM,
    FID_WEIGHTS_FILENAME,
    FID_WEIGHTS_URL,
    WEIGHTS_ENV_VAR,
    WEIGHTS_FLAG,
    FIDInceptionV3,
    build_fid_inception,
    extract_features,
    load_fid_inception,
    random_fid_weights,
    strict_float32,
)
from bench.metrics.feature_stats import save_stats_npz
from bench.metrics.frechet import FrechetReference
from bench.storage import provenance


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A state dict file with the published layout and order-1 random values, and its
    SHA-256."""
    path = tmp_path_factory.mktemp("weights") / FID_WEIGHTS_FILENAME
    torch.save(random_fid_weights(), path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def model(weights):
    path, digest = weights
    return load_fid_inception(path, expected_sha256=digest)


@pytest.fixture(scope="module")
def images():
    """8-bit values, so the same images survive a round trip through PNG files exactly."""
    gen = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (2, 3, 16, 16), generator=gen, dtype=torch.uint8) / 255


@pytest.fixture(scope="module")
def extracted(model, images):
    """Per-image features (captured by a hook) and the statistics extract_features streams."""
    captured = []
    handle = model.register_forward_hook(lambda module, args, out: captured.append(out.clone()))
    try:
        stats = extract_features(model, images, batch_size=2)
    finally:
        handle.remove()
    return torch.cat(captured), stats


@pytest.fixture(scope="module")
def features(extracted):
    return extracted[0]


@pytest.fixture(autouse=True)
def isolated_lookup(tmp_path, monkeypatch):
    """No real weights from the user's environment or torch hub cache leak into a test."""
    monkeypatch.delenv(WEIGHTS_ENV_VAR, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


def test_loads_in_eval_mode_without_gradients(model):
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_pool3_features_have_2048_dimensions(features):
    assert features.shape == (2, FEATURE_DIM)
    assert features.dtype == torch.float32
    assert torch.isfinite(features).all()
    assert features.abs().mean() > 0.1  # order-1 activations, so comparisons mean something


def _pytorch_fid_network(state_dict: dict[str, torch.Tensor]):
    """pytorch-fid's own construction (``fid_inception_v3``), handed ``state_dict`` in place
    of the weights it would download."""
    with mock.patch.object(inception, "load_state_dict_from_url", return_value=state_dict):
        return inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]])


def _pytorch_fid_features(state_dict: dict[str, torch.Tensor], images: torch.Tensor):
    with strict_float32(), torch.inference_mode():
        return _pytorch_fid_network(state_dict).eval()(images)[0].flatten(1)


def _assert_same_features(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_matches_pytorch_fid_network_with_the_same_weights(weights, images, features):
    state_dict = torch.load(weights[0], weights_only=True)
    _assert_same_features(features, _pytorch_fid_features(state_dict, images))


def test_parity_check_detects_a_perturbed_weight_or_torchvision_pooling(weights, images, features):
    """The comparison above can fail: one weight scaled by 1.001, or torchvision's average
    pool in place of the FID graph's max pool in the last block, moves features past it."""
    state_dict = torch.load(weights[0], weights_only=True)
    key = "Mixed_7c.branch1x1.conv.weight"
    perturbed = {**state_dict, key: state_dict[key] * 1.001}
    with pytest.raises(AssertionError):
        _assert_same_features(features, _pytorch_fid_features(perturbed, images))

    avg_pooled = build_fid_inception(state_dict)
    last_block = avg_pooled.Mixed_7c
    avg_pooled.Mixed_7c = InceptionE(2048)
    avg_pooled.Mixed_7c.load_state_dict(last_block.state_dict())
    with torch.inference_mode(), pytest.raises(AssertionError):
        _assert_same_features(avg_pooled.eval()(images), features)


# Two images give a singular covariance, which both sides warn about; the values still agree.
# pytorch-fid passes scipy's sqrtm the deprecated ``disp`` argument.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.filterwarnings("ignore::bench.metrics.feature_stats.UndersampledWarning")
def test_fid_matches_pytorch_fid_from_image_files(weights, images, extracted, tmp_path):
    """pytorch-fid's whole path (PNG files, its loader, network, statistics and scipy's
    ``sqrtm``) against ours (streamed statistics, eigh-based distance) on the same images
    and full-rank reference statistics."""
    _, stats = extracted
    image_dir = tmp_path / "images"
    image_dir.mkdir()
    for i, image in enumerate(images):
        pixels = (image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        Image.fromarray(pixels).save(image_dir / f"{i}.png")
    gen = torch.Generator().manual_seed(3)
    mu_ref = torch.randn(FEATURE_DIM, generator=gen, dtype=torch.float64)
    factor = torch.randn(FEATURE_DIM, 64, generator=gen, dtype=torch.float64)
    sigma_ref = factor @ factor.T / 64 + torch.eye(FEATURE_DIM, dtype=torch.float64)
    reference_file = tmp_path / "reference.npz"
    save_stats_npz(reference_file, mu_ref, sigma_ref)

    state_dict = torch.load(weights[0], weights_only=True)
    with mock.patch.object(inception, "load_state_dict_from_url", return_value=state_dict):
        theirs = fid_score.calculate_fid_given_paths(
            [str(image_dir), str(reference_file)], batch_size=len(images), device="cpu",
            dims=FEATURE_DIM, num_workers=0,
        )
    ours = FrechetReference(mu_ref, sigma_ref).distance(stats.mean(), stats.covariance())
    assert np.isfinite(theirs) and ours == pytest.approx(theirs, rel=1e-5)


def test_provenance_records_the_pytorch_fid_version():
    packages = provenance.collect(torch.device("cpu"))["packages"]
    assert packages["pytorch-fid"] == metadata.version("pytorch-fid")


def test_channels_last_network_gives_the_same_features(weights, images, features):
    path, digest = weights
    fast = load_fid_inception(path, expected_sha256=digest, channels_last=True)
    conv = fast.Mixed_7c.branch1x1.conv.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        torch.testing.assert_close(fast(images), features, rtol=1e-5, atol=1e-6)


def test_extract_features_accumulates_float64_statistics(extracted, features):
    _, stats = extracted
    assert stats.n == 2 and stats.dim == FEATURE_DIM
    assert stats.mean().dtype == torch.float64
    torch.testing.assert_close(stats.mean(), features.double().mean(dim=0))


def test_extract_features_streams_an_iterable_in_batches():
    # The batching logic, on a cheap stand-in network.
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    x = torch.randn(7, 3, 2, 2)
    stats = extract_features(net, iter([x[:3], x[3:]]), batch_size=2)
    assert stats.n == 7
    with torch.no_grad():
        torch.testing.assert_close(stats.mean(), net(x).double().mean(dim=0))


class _Stop(Exception):
    pass


def _network_input(model: FIDInceptionV3, images: torch.Tensor) -> torch.Tensor:
    """What the first convolution receives, without running the slow rest of the network."""
    seen = []

    def stop(module, args):
        seen.append(args[0])
        raise _Stop

    handle = model.Conv2d_1a_3x3.register_forward_pre_hook(stop)
    try:
        with pytest.raises(_Stop):
            model(images)
    finally:
        handle.remove()
    return seen[0]


def test_preprocessing_resizes_to_299_and_scales_either_range_to_unit_interval(model, images):
    expected = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
    from_unit = _network_input(model, images)
    assert from_unit.shape == (2, 3, 299, 299)
    torch.testing.assert_close(from_unit, expected, rtol=0, atol=0)
    from_tanh = _network_input(FIDInceptionV3(input_range=(-1.0, 1.0)), images * 2 - 1)
    # Rescaling before or after the (linear) resize differs only by float32 rounding.
    torch.testing.assert_close(from_tanh, expected)


def test_grayscale_images_are_repeated_to_rgb(model, images):
    gray = images[:, :1]
    torch.testing.assert_close(
        _network_input(model, gray), _network_input(model, gray.expand(-1, 3, -1, -1))
    )


def test_strict_float32_disables_tf32_and_restores_settings():
    matmul = torch.backends.cuda.matmul
    if not hasattr(matmul, "fp32_precision"):
        pytest.skip("this torch has only the legacy TF32 switches")
    before = matmul.fp32_precision
    matmul.fp32_precision = "tf32"
    try:
        with strict_float32():
            assert matmul.fp32_precision == "ieee"
        assert matmul.fp32_precision == "tf32"
    finally:
        matmul.fp32_precision = before


def test_weights_found_through_env_var_then_hub_dir(weights, tmp_path, monkeypatch):
    path, digest = weights
    monkeypatch.setenv(WEIGHTS_ENV_VAR, str(path))
    assert fid_inception.resolve_weights_path() == path
    monkeypatch.delenv(WEIGHTS_ENV_VAR)
    hub_file = tmp_path / "torch_home" / "hub" / "checkpoints" / FID_WEIGHTS_FILENAME
    hub_file.parent.mkdir(parents=True)
    hub_file.write_bytes(path.read_bytes())
    assert fid_inception.resolve_weights_path() == hub_file
    load_fid_inception(expected_sha256=digest)


def test_missing_weights_error_says_how_to_get_them():
    with pytest.raises(BenchError) as err:
        load_fid_inception()
    message = str(err.value)
    assert FID_WEIGHTS_URL in message
    assert WEIGHTS_FLAG in message and WEIGHTS_ENV_VAR in message


def test_explicit_path_that_does_not_exist_is_an_error(weights, tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV_VAR, str(weights[0]))  # present, but must not be used
    with pytest.raises(BenchError, match=f"not found at .*from {WEIGHTS_FLAG}"):
        load_fid_inception(tmp_path / "nowhere.pth")


def test_checksum_mismatch_is_an_error(weights, tmp_path):
    path, digest = weights
    corrupt = tmp_path / "corrupt.pth"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(BenchError, match="SHA-256") as err:
        load_fid_inception(corrupt, expected_sha256=digest)
    assert FID_WEIGHTS_URL in str(err.value)


def test_published_digest_is_checked_by_default(weights):
    with pytest.raises(BenchError, match=fid_inception.FID_WEIGHTS_SHA256):
        load_fid_inception(weights[0])


def test_unloadable_or_wrong_state_dict_is_an_error(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(BenchError, match="cannot read"):
        load_fid_inception(garbage, expected_sha256=hashlib.sha256(b"not a checkpoint").hexdigest())
    other = tmp_path / "other.pth"
    torch.save(torch.nn.Linear(2, 2).state_dict(), other)
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    with pytest.raises(BenchError, match="do not fit"):
        load_fid_inception(other, expected_sha256=digest)


def test_download_failure_offline_is_a_clear_error(monkeypatch):
    # Port 9 on localhost refuses the connection at once: the real download code fails
    # the way it does offline, without touching the network.
    unreachable = "http://127.0.0.1:9/" + FID_WEIGHTS_FILENAME
    monkeypatch.setattr(fid_inception, "FID_WEIGHTS_URL", unreachable)
    with pytest.raises(BenchError, match="could not download") as err:
        load_fid_inception(download=True)
    assert WEIGHTS_FLAG in str(err.value) and unreachable in str(err.value)
