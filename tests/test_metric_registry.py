"""The metric declarations and registry: each registered metric on data whose answer is known,
its protocol name, every dataset's metrics declared, and every declaration implemented."""

import math
from dataclasses import fields

import pytest
import torch

from bench.core.outputs import HIGHER, LOWER, METRIC, better, outputs_from
from bench.core.specs import EvalSpec
from bench.data import DATASETS, get_dataset
from bench.metrics.declarations import METRIC_SPECS, MetricSpec, declare
from bench.metrics.feature_stats import FeatureStats
from bench.metrics.frechet import FrechetReference
from bench.metrics.registry import METRICS, MetricInput, Reference, register

SPEC = EvalSpec(samples=400, w1_samples=300, fid_samples=10_000)


def _run(name: str, fake, real, dataset: str = "ring8", frechet=None) -> dict:
    metric = METRICS[name]
    return metric.compute(MetricInput(fake, Reference(real, frechet), get_dataset(dataset),
                                      SPEC))


def test_every_dataset_metric_is_declared_and_every_declaration_implemented():
    for dataset in DATASETS.values():
        for name in dataset.metrics:
            assert name in METRIC_SPECS, (dataset.name, name)
    assert list(METRICS) == list(METRIC_SPECS)
    for name, metric in METRICS.items():  # the registry holds the declaration as it is
        assert all(getattr(metric, f.name) == getattr(METRIC_SPECS[name], f.name)
                   for f in fields(MetricSpec))
        assert metric.outputs and metric.protocol(SPEC, "points")


def test_every_metric_output_is_written_by_a_declared_metric():
    """So the outputs a gate may judge (``checkpoint_outputs``) are ones a run can record."""
    written = {o.name for spec in METRIC_SPECS.values() for o in spec.outputs}
    assert {o.name for o in outputs_from(METRIC)} == written


@pytest.mark.parametrize(("name", "message"), [
    ("sharpness", "'sharpness' is not declared"),
    ("w1", "registered twice"),
])
def test_a_function_registers_only_against_a_declaration_and_once(name, message):
    with pytest.raises(ValueError, match=message):
        register(name)


def test_protocol_names_state_the_protocol():
    protocols = {name: m.protocol(SPEC, "digits") for name, m in METRICS.items()}
    assert protocols["w1"] == "w1_n300"
    assert protocols["fid"] == "fid10k" and protocols["kid"] == "kid10k"
    assert protocols["precision_recall"] == "pr_k3_digits_n400"
    assert protocols["density_coverage"] == "dc_k5_digits_n400"
    assert protocols["fd_digits"] == "fd_digits_n400"
    assert METRICS["fid"].protocol(EvalSpec(fid_samples=2500), "inception") == "fid_n2500"


def test_w1_is_zero_on_the_same_points_and_the_shift_otherwise():
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    assert _run("w1", x, x)["w1"] == pytest.approx(0, abs=1e-12)
    assert _run("w1", x + torch.tensor([3.0, 4.0]), x)["w1"] == pytest.approx(5.0)


def test_mixture_modes_count_the_centres_hit():
    ring = get_dataset("ring8").modes
    centres = torch.tensor(ring.centers)
    four = centres[:4].repeat_interleave(100, dim=0)  # 400 samples exactly on 4 modes
    values = _run("mixture_modes", four, four)
    assert values["modes_captured"] == 4 and values["hq_fraction"] == 1.0
    assert values["reverse_kl_hq"] == pytest.approx(math.log(2))  # uniform on half the modes


def test_classifier_modes_read_the_channels_as_digits():
    labels = torch.tensor([[1, 2, 3], [1, 2, 3], [0, 0, 7], [9, 9, 9]])
    values = _run("classifier_modes", labels, labels, "stacked-digits")
    assert values["modes_captured"] == 3
    p = torch.tensor([0.5, 0.25, 0.25])
    assert values["reverse_kl"] == pytest.approx(float((p * (p * 1000).log()).sum()))


def test_frechet_metrics_are_zero_against_their_own_statistics():
    x = torch.randn(500, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    stats = FeatureStats()
    stats.update(x)
    reference = FrechetReference(stats.mean(), stats.covariance())
    assert _run("fd_digits", x, x, "digits", reference)["fd_digits"] == pytest.approx(0, abs=1e-9)
    values = _run("fid", x, x, "cifar10", reference)
    assert values["fid"] == pytest.approx(0, abs=1e-9) and values["fid_n"] == 500
    shifted = _run("fid", x + 1, x, "cifar10", reference)["fid"]
    assert shifted == pytest.approx(8.0, rel=1e-6)  # |mean shift|^2 = 8 x 1^2


def test_kid_is_near_zero_for_one_distribution_and_positive_across_two():
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(600, 16, generator=gen), torch.randn(600, 16, generator=gen)
    assert abs(_run("kid", a, b, "cifar10")["kid"]) < 0.02
    assert _run("kid", a + 2, b, "cifar10")["kid"] > 0.5


def test_knn_metrics_on_identical_and_disjoint_sets():
    x = torch.randn(400, 4, generator=torch.Generator().manual_seed(3))
    assert _run("precision_recall", x, x) == {"precision": 1.0, "recall": 1.0}
    assert _run("density_coverage", x, x) == {"density": 1.0, "coverage": 1.0}
    assert _run("precision_recall", x + 100, x) == {"precision": 0.0, "recall": 0.0}
    assert _run("density_coverage", x + 100, x) == {"density": 0.0, "coverage": 0.0}


def test_a_reference_computes_each_statistic_once():
    calls = []
    reference = Reference(torch.zeros(3, 2))
    for _ in range(3):
        reference.statistic("s", lambda x: calls.append(1))
    assert len(calls) == 1


@pytest.mark.parametrize(("arguments", "message"), [
    ({"extractor": "resnet"}, "unknown extractor 'resnet'"),
    ({"samples_field": "n_samples"}, "'n_samples' is not an EvalSpec field"),
    ({"outputs": ("sharpness",)}, "'sharpness' is not a declared output"),
    ({"outputs": ("train_seconds",)}, "'train_seconds' is written by the training"),
    ({"name": "w1"}, "declared twice"),
])
def test_a_metric_that_cannot_work_is_refused_when_it_is_declared(arguments, message):
    good = {"name": "probe", "outputs": ("w1",), "extractor": "points",
            "samples_field": "samples", "protocol": lambda spec, _: "probe"}
    with pytest.raises(ValueError, match=message):
        declare(**(good | arguments))
    assert "probe" not in METRIC_SPECS


def test_every_output_declares_a_direction_the_consumers_share():
    declared = {o.name: o for m in METRICS.values() for o in m.outputs}
    assert declared["w1"].better == better("fd_digits") == better("fid") == LOWER
    assert declared["modes_captured"].better == better("recall") == HIGHER
    assert better("critic_gap") is None and declared["fid_n"].better is None
