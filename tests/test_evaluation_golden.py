"""A small suite's checkpoint metrics against golden values computed on the same seeds.

With autograd's gradients (``fused off``), against those commit 65f04ca computed: the
evaluation's speed-ups (issue 22) change no value beyond float noise, and the autograd path
is still exactly what it was. Training is untouched there, so every checkpoint sees the same
generated and real samples as then. Everything but precision, recall, density and coverage
must come out exactly as before. Those four now come from KD-trees and coordinate differences
instead of float32 distance blocks (``bench.metrics.knn_manifold``), which round differently:
a ball test within rounding of a tie may flip, moving a fraction by 1 / 2,500 per flip. The
bound below allows a handful.

With the fused MLP step (the default since issue 35), against the values it computed when the
``ci`` gate certified it (docs/PERFORMANCE.md, "The fused step"): its gradients equal
autograd's in exact arithmetic (tests/test_fused_step.py) but round differently, and training
amplifies rounding, so its trajectories are its own; this file pins them.

The autograd file was written by commit 65f04ca (``python tests/test_evaluation_golden.py``
there, with its own package layout); this checkout writes the same values with ``fused off``.
Regenerate the fused one from this checkout::

    python tests/test_evaluation_golden.py --fused
"""

import json
import math
import sys
from pathlib import Path

import torch

GOLDEN = Path(__file__).parent / "data" / "evaluation_golden_65f04ca.json"
GOLDEN_FUSED = Path(__file__).parent / "data" / "evaluation_golden_fused.json"
KNN_OUTPUTS = {"precision", "recall", "density", "coverage"}
MAX_FLIPS = 5
"""Ball tests a rounding difference may flip per value (of 2,500 samples)."""
NOT_COMPARED = {"train_seconds", "eval_seconds", "gen_steps_per_s", "critic_steps_per_s",
                "samples_per_s"}
"""Timings: they differ on every run."""
ADDED_SINCE = {"gradient_evaluations"}
"""Rows recorded since the reference commit (issue 24's counter): new, not changed."""

SUITE = {
    "name": "golden-eval", "description": "issue 22: evaluation before and after",
    "datasets": ["ring8", "grid25"], "gans": ["gan", "wgan-clip", "wgan-gp"],
    "optimizers": ["adam"], "seeds": 2, "budget": {"generator_steps": 40},
    "batch_size": 64, "model": {"width": 16, "depth": 3, "latent_dim": 2},
    "eval": {"every": 20, "samples": 2500, "w1_samples": 500, "critic_samples": 500},
}
"""Groups of 4 members (2 datasets x 2 seeds), 3 checkpoints each, the quick suite's sample
counts."""


def checkpoint_metrics(fused: str = "auto") -> dict[str, float]:
    """``run/step/metric`` -> value for every run of ``SUITE``, trained on one thread with the
    fused step in mode ``fused``."""
    from bench.config.suite import expand, parse_suite
    from bench.core.environment import Environment
    from bench.orchestration.runner import plan_groups
    from bench.training.trainer import GroupTrainer

    torch.set_num_threads(1)
    config = parse_suite(SUITE, "golden")
    env = Environment(fused=fused)
    values = {}
    for group in plan_groups(expand(config), config.group_size):
        for result in GroupTrainer(group, torch.device("cpu"), env).train():
            for row in result.rows:
                if row["metric"] not in NOT_COMPARED:
                    values[f"{result.spec.run_id}/{row['step']}/{row['metric']}"] = row["value"]
    return values


def test_autograd_checkpoint_metrics_match_the_reference_commit():
    golden = json.loads(GOLDEN.read_text())
    now = checkpoint_metrics(fused="off")
    assert {k for k in now if k.rsplit("/", 1)[1] not in ADDED_SINCE} == set(golden)
    _assert_matches(golden, now)


def test_fused_checkpoint_metrics_match_the_certified_ones():
    golden = json.loads(GOLDEN_FUSED.read_text())
    now = checkpoint_metrics(fused="on")
    assert set(now) == set(golden)
    _assert_matches(golden, now)


def _assert_matches(golden: dict[str, float], now: dict[str, float]) -> None:
    flips = 0
    for key, before in golden.items():
        after, metric = now[key], key.rsplit("/", 1)[1]
        if metric not in KNN_OUTPUTS:
            assert after == before or (math.isnan(after) and math.isnan(before)), key
            continue
        unit = 1 / 2500 if metric != "density" else 1 / (5 * 2500)  # one ball test
        assert abs(after - before) <= MAX_FLIPS * unit + 1e-12, (key, before, after)
        flips += after != before
    assert flips <= len([k for k in golden if k.rsplit("/", 1)[1] in KNN_OUTPUTS]) // 4


if __name__ == "__main__":
    fused = "--fused" in sys.argv
    path = GOLDEN_FUSED if fused else GOLDEN
    path.parent.mkdir(exist_ok=True)
    values = checkpoint_metrics(fused="on" if fused else "off")
    path.write_text(json.dumps(values, indent=0, sort_keys=True) + "\n")
    print(f"wrote {path} with {sys.modules['bench'].__file__}")
