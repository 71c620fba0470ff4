"""``run_bench.py perf --roofline``: FLOPs of the production iteration, peak, time split."""

import json

import pytest
import torch

from bench.cli import main
from bench.core.environment import Environment
from bench.perf.roofline import BATCH, count_flops, roofline_specs
from bench.training.trainer import GroupTrainer

WIDTH = 8


def _iteration_flops(gan: str, members: int, env: Environment | None = None) -> int:
    trainer = GroupTrainer(roofline_specs(gan, members, WIDTH), torch.device("cpu"), env)
    n_critic = trainer.schedule.critic_steps_before(0)
    return count_flops(lambda: trainer.iteration(n_critic))


def test_gan_iteration_flops_match_a_count_by_hand():
    # 2 -> W -> W -> W -> 2 generator, 2 -> W -> W -> W -> 1 critic; a matrix product of
    # [B, m] x [m, n] is 2 B m n FLOPs, and autograd skips input gradients nobody needs
    w, b = WIDTH, BATCH
    g_fwd = 2 * b * (2 * w + 2 * w * w + 2 * w)
    c_fwd = 2 * b * (2 * w + 2 * w * w + w)
    c_input_grads = 2 * b * (2 * w + 2 * w * w + w)         # all four layers
    critic_step = g_fwd + 2 * (c_fwd + c_fwd + c_input_grads - 2 * b * 2 * w)  # real, fake
    generator_step = (g_fwd + c_fwd + c_input_grads          # through the frozen critic
                      + g_fwd + (2 * b * (2 * w * w + 2 * w)))  # generator weights, inputs
    autograd = Environment(fused="off")  # the fused step's products are its own
    assert _iteration_flops("gan", 1, autograd) == critic_step + generator_step


@pytest.mark.parametrize("gan", ["gan", "wgan-clip", "wgan-gp"])
def test_iteration_flops_grow_with_the_members(gan):
    assert _iteration_flops(gan, 3) == 3 * _iteration_flops(gan, 1)


def test_the_penalty_double_backward_is_counted():
    # same networks and 5 critic steps each: only the penalty's double backward differs
    assert _iteration_flops("wgan-gp", 1) > 1.5 * _iteration_flops("wgan-clip", 1)


def test_roofline_command_writes_every_case(tmp_path, capsys):
    out = tmp_path / "roofline.json"
    assert main(["perf", "--roofline", "--members", "1", "2", "--widths", str(WIDTH),
                 "--min-seconds", "0.01", "--device", "cpu", "--threads", "1",
                 "--out", str(out)]) == 0
    table = capsys.readouterr().out
    result = json.loads(out.read_text())
    cases = result["cases"]
    assert [(c["gan"], c["members"]) for c in cases] == [
        (g, k) for k in (1, 2) for g in ("gan", "wgan-clip", "wgan-gp")]
    for case in cases:
        assert case["threads"] == 1 and case["width"] == WIDTH
        assert case["peak_flops_per_s"] == case["peak_one_thread"] > 0
        assert case["achieved_flops_per_s"] == pytest.approx(case["flops"] / case["seconds"])
        split = case["split"]
        parts = ("matmul", "optimizer", "op_overhead", "memory", "outside_ops")
        assert all(split[p] >= 0 for p in parts) and split["op_calls"] > 0
        assert sum(split[p] for p in parts) == pytest.approx(split["wall"], rel=1e-6)
    assert table.count("%") >= len(cases) and "wgan-gp" in table


def test_the_profiler_prints_nothing_of_its_own(capfd):
    """Kineto writes "profiler_start" lines (and "gpuGetDeviceCount failed" without a GPU)
    straight to file descriptor 2; the roofline's table stands alone."""
    from bench.perf.roofline import _empty_op_seconds

    assert _empty_op_seconds() > 0
    captured = capfd.readouterr()
    assert "profiler_start" not in captured.err and "gpuGetDeviceCount" not in captured.err
