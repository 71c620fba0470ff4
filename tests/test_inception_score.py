"""The Inception Score: known answers, parity with torch-fidelity's ISC (its protocol on the
same logits, and its network on the same images and the same random weights), and one
Inception forward per image for FID, KID and IS."""

import math

import numpy as np
import pytest
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.metric_isc import (
    KEY_METRIC_ISC_MEAN,
    KEY_METRIC_ISC_STD,
    isc_features_to_metric,
)

from bench.features.fid_inception import InceptionPass, build_fid_inception, random_fid_weights
from bench.metrics.inception_score import SPLITS, inception_score
from bench.metrics.registry import METRICS, MetricInput
from bench.specs import EvalSpec

RELATIVE = 1e-4


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
def test_matches_torch_fidelity_protocol_on_the_same_logits(n):
    logits = torch.randn(n, 1008, generator=torch.Generator().manual_seed(n)) * 3
    ours = inception_score(logits)
    theirs = isc_features_to_metric(logits, splits=SPLITS, shuffle=True, rng_seed=2020)
    assert ours.mean == pytest.approx(theirs[KEY_METRIC_ISC_MEAN], rel=RELATIVE)
    assert ours.std == pytest.approx(theirs[KEY_METRIC_ISC_STD], rel=RELATIVE)


def test_registered_metric_and_protocol_name():
    metric = METRICS["inception_score"]
    assert not metric.needs_reference and metric.extractor == "inception_logits"
    assert metric.protocol(EvalSpec(fid_samples=10_000), "inception_logits") == (
        "is10k_tfidelity_10splits")
    logits = torch.randn(50, 1008, generator=torch.Generator().manual_seed(0))
    values = metric.compute(MetricInput(logits, None, None, EvalSpec()))
    assert values == {"is": inception_score(logits).mean, "is_std": inception_score(logits).std}


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    """Ours and torch-fidelity's Inception with the same random weights; ours reads 8-bit
    values as torch-fidelity does ((x - 128) / 128: input range (0, 256))."""
    state_dict = random_fid_weights()
    path = tmp_path_factory.mktemp("weights") / "random.pth"
    torch.save(state_dict, path)
    ours = build_fid_inception(state_dict, input_range=(0.0, 256.0))
    theirs = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                         feature_extractor_weights_path=str(path))
    return ours, theirs.eval()


def test_matches_torch_fidelity_isc_on_the_same_images_and_weights(networks):
    ours, theirs = networks
    # 299 x 299: both resizes are the identity, so the networks see the same pixels
    images = torch.randint(0, 256, (4, 3, 299, 299), generator=torch.Generator().manual_seed(3),
                           dtype=torch.uint8)
    pool3, logits = InceptionPass(ours, batch_size=4)(images.float())
    with torch.no_grad():
        their_pool3, their_logits = theirs(images)
    assert torch.allclose(pool3, their_pool3, rtol=RELATIVE, atol=1e-5)
    assert torch.allclose(logits, their_logits, rtol=RELATIVE, atol=1e-4)
    ours_is = inception_score(logits, splits=2)  # 4 images: 2 splits of 2
    theirs_is = isc_features_to_metric(their_logits, splits=2, shuffle=True, rng_seed=2020)
    assert ours_is.mean == pytest.approx(theirs_is[KEY_METRIC_ISC_MEAN], rel=RELATIVE)
    assert math.isfinite(ours_is.std)


def test_one_forward_serves_pool3_and_logits(networks):
    ours, _ = networks
    calls = []
    handle = ours.register_forward_hook(lambda *args: calls.append(1))
    try:
        one_pass = InceptionPass(ours, batch_size=2)
        images = torch.rand(2, 3, 8, 8) * 255
        pool3 = one_pass.pool3(images)
        logits = one_pass.logits(images)
        assert len(calls) == 1  # the logits came from the same pass
        assert torch.equal(logits, pool3 @ ours.fc.weight.T)
        one_pass.logits(images + 1)  # other images: a new pass
        assert len(calls) == 2
    finally:
        handle.remove()
    assert np.isfinite(logits.numpy()).all()


def test_the_extractors_serve_fid_and_is_from_one_pass(monkeypatch, tmp_path):
    """A run computing FID gets pool3 features and logits of the same samples from one
    Inception forward (the network swapped for random weights: the real ones are offline)."""
    from bench.data import get_dataset
    from bench.environment import Environment
    from bench.features import fid_inception
    from bench.features.extractors import Extractors
    from bench.features.names import INCEPTION, INCEPTION_LOGITS

    network = build_fid_inception(random_fid_weights(), input_range=(-1.0, 1.0))
    calls = []
    network.register_forward_hook(lambda *args: calls.append(1))
    monkeypatch.setattr(fid_inception, "resolve_weights_path", lambda *a, **k: tmp_path)
    monkeypatch.setattr(fid_inception, "load_fid_inception", lambda *a, **k: network)
    monkeypatch.setattr(fid_inception, "sha256_file", lambda path: "random")
    extractors = Extractors(get_dataset("digits"), EvalSpec(fid_samples=12), torch.device("cpu"),
                            Environment(cache_dir=tmp_path))
    assert extractors.resolve(METRICS["inception_score"].extractor) == INCEPTION_LOGITS
    samples = torch.rand(12, 1, 16, 16) * 2 - 1
    pool3 = extractors(INCEPTION, samples)
    logits = extractors(INCEPTION_LOGITS, samples)
    assert len(calls) == 1 and logits.shape == (12, 1008)
    assert torch.equal(logits, pool3 @ network.fc.weight.T)
