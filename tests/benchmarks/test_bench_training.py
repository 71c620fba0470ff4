"""Throughput of what a suite spends its time on: one training iteration of each GAN on the
toy MLP (the ``ci`` suite's sizes: one seed batch of its 8 members), with the fused MLP step
(the default) and with autograd (``fused off``, the reference), toy data sampling, and one
iteration of a small DCGAN.

``extra_info`` holds the work per call and, when timed, generator steps, critic steps or
samples per second.
"""

import pytest
import torch

from bench.config.expansion import expand
from bench.config.suite import load_suite
from bench.core.environment import Environment
from bench.data.toy import get_toy_dataset
from bench.training.streams import MemberStreams
from bench.training.trainer import GroupTrainer
from tests.benchmarks.conftest import bench_device, record_rates, synchronised

CI_SUITE = load_suite("ci")


def _group(gan: str) -> list:
    """The ci suite's first seed batch of ``gan`` with Adam on ring8."""
    specs = [s for s in expand(CI_SUITE) if s.gan == gan and s.optimizer_label == "adam"]
    return specs[: CI_SUITE.group_size]


def _time_iteration(benchmark, gan: str, fused: str) -> None:
    device = bench_device()
    group = _group(gan)
    trainer = GroupTrainer(group, device, Environment(fused=fused))
    assert trainer.accel.fused == (fused != "off")
    n_critic = trainer.schedule.critic_steps_before(0)

    def iteration() -> None:  # the schedule's phases, as training runs them
        trainer.iteration(n_critic)

    benchmark(synchronised(iteration, device))
    assert torch.isfinite(trainer.sums["generator_loss"]).all()
    record_rates(benchmark, device, members=len(group), generator_steps=1,
                 critic_steps=n_critic, samples=n_critic * group[0].batch_size * len(group))


@pytest.mark.benchmark(group="toy-iteration")
@pytest.mark.parametrize("gan", CI_SUITE.gans)
def test_toy_training_iteration(benchmark, gan):
    """The fused step, as suites train by default."""
    _time_iteration(benchmark, gan, "auto")


@pytest.mark.benchmark(group="toy-iteration-autograd")
@pytest.mark.parametrize("gan", CI_SUITE.gans)
def test_toy_training_iteration_with_autograd(benchmark, gan):
    """Autograd's gradients (``fused off``), the reference the fused step is measured
    against."""
    _time_iteration(benchmark, gan, "off")


@pytest.mark.benchmark(group="toy-sampling")
@pytest.mark.parametrize("dataset", ["ring8", "grid25", "swissroll"])
def test_toy_sampling(benchmark, dataset):
    device = bench_device()
    data = get_toy_dataset(dataset)
    streams = MemberStreams(range(CI_SUITE.group_size), device)
    n = CI_SUITE.batch_size

    samples = benchmark(synchronised(lambda: data.sample(streams, n), device))
    assert samples.shape == (streams.members, n, 2)
    record_rates(benchmark, device, samples=streams.members * n)
