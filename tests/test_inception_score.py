"""The Inception Score: known answers, torch-fidelity's protocol, and parity with
torch-fidelity's whole ISC on 32x32 images with structure (its network on its uint8 input
against the extractor a run uses, same random weights), where pytorch-fid's input pipeline
measurably misses it."""

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x
from torch_fidelity.metric_isc import (
    KEY_METRIC_ISC_MEAN,
    KEY_METRIC_ISC_STD,
    isc_features_to_metric,
)

from bench.core.specs import EvalSpec
from bench.features.fid_inception import (
    FIDInceptionV3,
    InceptionScoreLogits,
    all_features,
    build_fid_inception,
    quantize_8bit,
    random_fid_weights,
)
from bench.metrics.inception_score import SHUFFLE_SEED, SPLITS, inception_score
from bench.metrics.registry import METRICS, MetricInput

LOGITS_RELATIVE = 1e-4
IS_ABSOLUTE = 1e-3


def test_uniform_predictions_score_one_and_confident_distinct_classes_score_their_count():
    assert inception_score(torch.zeros(100, 1008)).mean == pytest.approx(1.0)
    classes = 20
    labels = torch.arange(classes * 3) % classes
    confident = torch.nn.functional.one_hot(labels, 1008).double() * 60.0
    # one split (the shuffle then cannot unbalance the classes): exp(log 20) exactly
    score = inception_score(confident, splits=1)
    assert score.mean == pytest.approx(classes, rel=1e-6) and score.std == 0
    assert inception_score(confident[:1].expand(40, -1)).mean == pytest.approx(1.0)


def test_too_few_samples_is_an_error():
    with pytest.raises(ValueError, match="at least 10 samples"):
        inception_score(torch.zeros(9, 1008))


@pytest.mark.parametrize("n", [100, 257])
def test_torch_fidelity_protocol_settings(n):
    """torch-fidelity's defaults: 10 splits of a RandomState(2020) shuffle."""
    assert (SPLITS, SHUFFLE_SEED) == (10, 2020)
    logits = torch.randn(n, 1008, generator=torch.Generator().manual_seed(n)) * 3
    ours = inception_score(logits)
    theirs = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    assert (ours.mean, ours.std) == (theirs[KEY_METRIC_ISC_MEAN], theirs[KEY_METRIC_ISC_STD])


def test_registered_metric_and_protocol_name():
    metric = METRICS["inception_score"]
    assert not metric.needs_reference and metric.extractor == "inception_logits"
    assert metric.protocol(EvalSpec(fid_samples=10_000), "inception_logits") == (
        "is10k_tfidelity_u8_10splits")
    logits = torch.randn(50, 1008, generator=torch.Generator().manual_seed(0))
    values = metric.compute(MetricInput(logits, None, None, EvalSpec()))
    assert values == {"is": inception_score(logits).mean, "is_std": inception_score(logits).std}


def _torch_fidelity_pixels(images: torch.Tensor) -> torch.Tensor:
    """torch-fidelity's example generator's output (examples/sngan_cifar10.py)."""
    return (255 * (images.clamp(-1, 1) * 0.5 + 0.5)).to(torch.uint8)


def test_8bit_quantisation_is_torch_fidelity_s():
    grid = torch.linspace(-1.2, 1.2, 100_001)
    exact = torch.arange(256.0) / 127.5 - 1  # pixel boundaries, where truncation decides
    for x in (grid, exact, exact.nextafter(torch.tensor(-2.0))):
        assert torch.equal(quantize_8bit(x, (-1.0, 1.0)), _torch_fidelity_pixels(x))


class _Stop(Exception):
    pass


def _network_input(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """What the first convolution receives, without running the slow rest of the network."""
    seen = []

    def stop(module, args):
        seen.append(args[0])
        raise _Stop

    inception = FIDInceptionV3(input_range=(-1.0, 1.0))  # no weights: it stops before them
    handle = inception.Conv2d_1a_3x3.register_forward_pre_hook(stop)
    try:
        with pytest.raises(_Stop):
            model(inception)(images)
    finally:
        handle.remove()
    return seen[0]


@pytest.mark.parametrize("channels", [1, 3])
def test_the_network_sees_torch_fidelity_s_input(channels):
    """16x16 digits (one channel, repeated to RGB as PIL's convert("RGB") does) and 3-channel
    images reach the first convolution exactly as in torch-fidelity's forward."""
    images = torch.rand(2, channels, 16, 16, generator=torch.Generator().manual_seed(1)) * 2.2 - 1.1
    seen = _network_input(InceptionScoreLogits, images)
    pixels = _torch_fidelity_pixels(images.expand(-1, 3, -1, -1)).float()
    resized = interpolate_bilinear_2d_like_tensorflow1x(pixels, size=(299, 299),
                                                        align_corners=False)
    assert torch.equal(seen, (resized - 128) / 128)
    # pytorch-fid's input (the FID path) differs: torch's resize of unquantised floats
    assert not torch.allclose(_network_input(lambda net: net, images), seen, atol=1e-2)


def _structured_images(n: int) -> torch.Tensor:
    """n 32x32 RGB images as a tanh generator's output: a smooth colour field (bicubic from
    4x4) with a sharp-edged disc, slightly beyond [-1, 1] so the clamp matters."""
    gen = torch.Generator().manual_seed(5)
    field = F.interpolate(torch.rand(n, 3, 4, 4, generator=gen) * 2 - 1, size=(32, 32),
                          mode="bicubic", align_corners=False)
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    centre = torch.rand(n, 2, 1, 1, generator=gen) * 20 + 6
    radius = torch.rand(n, 1, 1, generator=gen) * 8 + 4
    disc = (rows - centre[:, 0]) ** 2 + (cols - centre[:, 1]) ** 2 < radius**2
    colour = (torch.rand(n, 3, 1, 1, generator=gen) * 2 - 1).expand(-1, -1, 32, 32)
    return torch.where(disc[:, None], colour, field).clamp(-1.05, 1.05)


N_IMAGES = 20


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """Logits of the same images and weights: a run's extractor, torch-fidelity's network on
    its 8-bit input, and pytorch-fid's input pipeline (the FID pass's pool3 @ W)."""
    from bench.core.environment import Environment
    from bench.data import get_dataset
    from bench.features import fid_inception
    from bench.features.extractors import Extractors
    from bench.metrics.extractor_names import INCEPTION, INCEPTION_LOGITS

    images = _structured_images(N_IMAGES)
    state_dict = random_fid_weights()
    pool3 = all_features(build_fid_inception(state_dict, input_range=(-1.0, 1.0)), images)
    # Random convolutions give every image one large positive mean feature, which alone would
    # pick the same class for all; fc rows orthogonal to it let the class follow the image,
    # and the scale makes the predictions confident (IS ~ 1.7 of at most 2 per split of 2).
    fc = torch.randn(1008, 2048, generator=torch.Generator().manual_seed(0))
    mean = pool3.mean(0) / pool3.mean(0).norm()
    state_dict["fc.weight"] = (fc - (fc @ mean)[:, None] * mean) * 0.3
    path = tmp_path_factory.mktemp("weights") / "random.pth"
    torch.save(state_dict, path)
    digest = fid_inception.sha256_file(path)

    with pytest.MonkeyPatch.context() as patch:  # the real loading path, our digest
        patch.setattr(fid_inception, "load_fid_inception",
                      functools.partial(fid_inception.load_fid_inception, expected_sha256=digest))
        extractors = Extractors(get_dataset("cifar10"), EvalSpec(fid_samples=N_IMAGES),
                                torch.device("cpu"),
                                Environment(fid_weights=path,
                                            cache_dir=tmp_path_factory.mktemp("cache")))
    ours = extractors(INCEPTION_LOGITS, images)
    # FID keeps pytorch-fid's input
    torch.testing.assert_close(extractors(INCEPTION, images[:2]), pool3[:2])
    theirs_net = FeatureExtractorInceptionV3("inception-v3-compat", ["logits_unbiased"],
                                             feature_extractor_weights_path=str(path)).eval()
    with torch.no_grad():
        (theirs,) = theirs_net(_torch_fidelity_pixels(images))
    return ours, theirs, pool3 @ state_dict["fc.weight"].T


def _relative(logits: torch.Tensor, reference: torch.Tensor) -> float:
    return float((logits - reference).abs().max() / reference.abs().max())


def _score(logits: torch.Tensor) -> float:
    """The registered metric, as a run computes it (10 splits of 2 images here)."""
    metric = METRICS["inception_score"]
    return metric.compute(MetricInput(logits, None, None, EvalSpec()))["is"]


def test_logits_match_torch_fidelity_on_32px_images(parity):
    ours, theirs, fid_input = parity
    assert ours.shape == theirs.shape == (N_IMAGES, 1008)
    assert _relative(ours, theirs) <= LOGITS_RELATIVE
    assert torch.equal(ours.argmax(1), theirs.argmax(1))
    assert len(theirs.argmax(1).unique()) >= N_IMAGES // 2  # the classes follow the images
    # the check can fail: pytorch-fid's input pipeline misses it by far
    assert _relative(fid_input, theirs) > 100 * LOGITS_RELATIVE


def test_inception_score_matches_torch_fidelity_on_32px_images(parity):
    ours, theirs, fid_input = parity
    expected = isc_features_to_metric(theirs, splits=SPLITS, shuffle=True, rng_seed=2020)
    theirs_is = expected[KEY_METRIC_ISC_MEAN]
    assert 1.2 < theirs_is <= 2  # confident, varied predictions: the score can move
    assert abs(_score(ours) - theirs_is) <= IS_ABSOLUTE
    assert abs(_score(fid_input) - theirs_is) > IS_ABSOLUTE
    assert math.isfinite(inception_score(ours).std)
