"""The evaluator's protocol: batch-norm generators are sampled in fixed training-size batches,
evaluation leaves the networks as it found them, and no memory chunk size moves a result."""

import numpy as np
import pytest
import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.features.extractors import Extractors
from bench.training.evaluation import GENERATOR_PROTOCOL, restored_buffers
from bench.training.workload import build_workload
from gan_zoo.registry import get_gan
from tests.conftest import tiny_suite


def _image_spec(**eval_overrides):
    suite = tiny_suite(datasets=["stacked-digits"], gans=["gan"], seeds=1, batch_size=16,
                       image_model={"filters": 8, "latent_dim": 16},
                       eval={"every": 1, "samples": 120, "critic_samples": 40}
                       | eval_overrides)
    return expand(parse_suite(suite))


def _evaluate(workload, extractor_batch: int | None = None) -> dict[str, float]:
    evaluator = workload.evaluator
    if extractor_batch is not None:
        (dataset,) = evaluator.datasets
        old = evaluator.extractors[dataset.name]
        evaluator.extractors = {dataset.name: Extractors(dataset, evaluator.spec,
                                                         evaluator.device, old.env,
                                                         batch_size=extractor_batch)}
    state = evaluator.streams.get_state()
    metrics, nonfinite = evaluator.evaluate(workload.generator, workload.critic,
                                            np.ones(1, dtype=bool))
    evaluator.streams.set_state(state)
    assert not nonfinite
    return metrics[0]


@pytest.fixture(scope="module")
def workload():
    torch.manual_seed(0)
    specs = _image_spec()
    gan = get_gan(specs[0].gan)
    return build_workload(specs, torch.device("cpu"), gan.loss,
                          gan.make_constraint(specs[0].recipe))


def test_results_do_not_depend_on_the_extractors_batch(workload):
    small, large = _evaluate(workload, extractor_batch=7), _evaluate(workload, 500)
    assert set(small) == set(large)
    for name, value in small.items():
        assert value == pytest.approx(large[name], rel=1e-6, abs=1e-9), name
    for name in ("fd_digits", "modes_captured", "precision", "recall", "density", "coverage"):
        assert name in small


def test_samples_come_in_training_size_batches(workload):
    evaluator = workload.evaluator
    state = evaluator.streams.get_state()
    images = evaluator.generate(workload.generator, 40)  # 3 batches of 16, cut to 40
    evaluator.streams.set_state(state)
    by_hand = [workload.generator(evaluator.streams.randn((16, 16))) for _ in range(3)]
    evaluator.streams.set_state(state)
    torch.testing.assert_close(images, torch.cat(by_hand, dim=1)[:, :40])
    # one big batch normalises differently: the protocol, not memory, decides the batches
    one_batch = workload.generator(evaluator.streams.randn((40, 16)))
    evaluator.streams.set_state(state)
    assert not torch.allclose(images, one_batch, atol=1e-4)


def test_evaluation_leaves_batch_norm_statistics_alone(workload):
    before = [b.clone() for b in workload.generator.buffers()]
    assert before, "the DCGAN generator has batch-norm buffers"
    _evaluate(workload)
    for old, new in zip(before, workload.generator.buffers(), strict=True):
        assert torch.equal(old, new)


def test_restored_buffers_restores_on_error():
    net = torch.nn.BatchNorm1d(3)
    with pytest.raises(RuntimeError), restored_buffers(net):
        net(torch.randn(8, 3) + 5)
        raise RuntimeError("boom")
    assert torch.equal(net.running_mean, torch.zeros(3))


def test_protocols_are_stated(workload):
    protocols = workload.evaluator.protocols(0)
    assert protocols["fd_digits"] == "fd_digits_n120"
    assert protocols["precision_recall"] == "pr_k3_digits_n120"
    assert protocols["density_coverage"] == "dc_k5_digits_n120"
    assert "batches of the training batch size" in GENERATOR_PROTOCOL
