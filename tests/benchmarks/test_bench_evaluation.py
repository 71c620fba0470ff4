"""Throughput of one evaluation checkpoint of a 6-member group: the quick suite's ring8 and
grid25 runs of one GAN and optimizer (2 datasets x 3 seeds), every metric they declare
(exact W1, modes, precision/recall, density/coverage) and the critic's estimate, on the
suite's sample counts. A slower evaluation shows here before it shows in the quick suite.
"""

import numpy as np
import pytest

from bench.config.expansion import expand
from bench.config.suite import load_suite
from bench.orchestration.runner import plan_groups
from bench.training.trainer import GroupTrainer
from tests.benchmarks.conftest import bench_device, record_rates, synchronised

QUICK = load_suite("quick")
TRAINING_STEPS = 50
"""Generator steps before timing: samples that have left the initial blob, as a suite's
later checkpoints see them (exact transport takes longer on spread-out samples)."""


@pytest.fixture(scope="module")
def trained_group() -> GroupTrainer:
    groups = plan_groups(expand(QUICK), QUICK.group_size)
    group = next(g for g in groups if g[0].gan == "gan" and g[0].optimizer.name == "adam")
    trainer = GroupTrainer(group, bench_device())
    for _ in range(TRAINING_STEPS):
        trainer.run_iteration(trainer.schedule.critic_steps_before(0))
    return trainer


@pytest.mark.benchmark(group="evaluation")
def test_evaluation_checkpoint_of_a_6_member_group(benchmark, trained_group):
    trainer = trained_group
    alive = np.ones(trainer.k, dtype=bool)
    assert trainer.k == 6

    def checkpoint():
        return trainer.evaluator.evaluate(trainer.generator, trainer.critic, alive)

    metrics, nonfinite = benchmark(synchronised(checkpoint, trainer.device))
    assert not nonfinite and sorted(metrics) == list(range(6))
    assert {"w1", "precision", "recall", "density", "coverage", "modes_captured",
            "critic_gap"} <= set(metrics[0])
    record_rates(benchmark, trainer.device, members=trainer.k, checkpoints=1,
                 samples=trainer.k * QUICK.eval.samples)
