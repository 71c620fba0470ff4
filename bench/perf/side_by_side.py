"""``run_bench.py perf``: the suite against the reference implementations, timed side by side.

In one process and one invocation, on the same device and thread count:

- **training**: the reference WGAN-GP toy loop (``bench/perf/reference_loop.py``, one model)
  and the suite's own ``GroupTrainer`` on the same configuration (3 x width ReLU MLPs, batch
  256, n_critic 5, Adam 1e-4 (0.5, 0.9), lambda 0.1, ring8 = the reference's 8gaussians),
  with K = 1 and more seed-batched members. Both run ``warmup`` generator steps first, which
  are not timed. The suite is timed by its own accounting (``train_seconds``, evaluation
  excluded), exactly as a suite run records throughput; its checkpoints fall every ``warmup``
  steps so the warm-up segment can be subtracted;
- **Frechet distance**: ours (``bench/metrics/frechet.py``, float64 eigensolvers on the
  device) against pytorch-fid's ``calculate_frechet_distance`` (scipy ``sqrtm`` on the host)
  on the same statistics;
- **feature statistics**: our streamed ``FeatureStats`` on the device against what
  pytorch-fid does (copy each batch to the host, then ``np.mean`` / ``np.cov``).

Aggregate throughput of K members is K x generator steps per second; samples per second are
the real samples the critic consumes (generator steps x n_critic x batch).
"""

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytorch_fid
import torch
from pytorch_fid.fid_score import calculate_frechet_distance

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.environment import Environment, resolve_device
from bench.core.errors import BenchError
from bench.core.outputs import TRAIN_SECONDS
from bench.core.results import FINISHED
from bench.core.specs import RunSpec
from bench.features.extractors import FEATURE_BATCH
from bench.features.fid_inception import resolve_weights_path
from bench.metrics.feature_stats import FeatureStats
from bench.metrics.frechet import FrechetReference, frechet_distance
from bench.perf.fid_pipeline import time_fid_end_to_end
from bench.perf.options import FID_DIM, PerfOptions
from bench.perf.reference_loop import ReferenceConfig, ReferenceWGANGP
from bench.perf.timing import PYTORCH_FID_BATCH, timed
from bench.storage.provenance import collect
from bench.training.trainer import GroupTrainer

REFERENCE = ReferenceConfig()
"""The matched configuration (width aside): batch, n_critic, lambda, lr and betas."""


@dataclass(frozen=True)
class LoopTiming:
    """One training loop's timed segment."""

    loop: str
    """reference or suite."""
    members: int
    steps: int
    """Generator steps timed, per member."""
    seconds: float
    speed_ups: str = "-"
    """What the suite's loop trained with (compiled networks, CUDA graphs, fall-backs)."""

    @property
    def gen_steps_per_s(self) -> float:
        """Aggregate over members."""
        return self.members * self.steps / self.seconds

    @property
    def samples_per_s(self) -> float:
        """Real samples the critic consumes per second, aggregate over members."""
        return self.gen_steps_per_s * REFERENCE.critic_iters * REFERENCE.batch_size


# --- training loops ---------------------------------------------------------------------


def time_reference(options: PerfOptions, device: torch.device) -> LoopTiming:
    """The reference loop: ``warmup`` untimed generator steps, then ``steps`` timed ones."""
    model = ReferenceWGANGP(ReferenceConfig(width=options.width), device)
    model.train(options.warmup)
    seconds, _ = timed(lambda: model.train(options.steps), device)
    if not np.isfinite(model.log["disc_cost"]).all():
        raise RuntimeError("the reference loop's critic cost is not finite")
    return LoopTiming("reference", 1, options.steps, seconds)


def suite_specs(width: int, members: int, steps: int, every: int) -> list[RunSpec]:
    """The suite's runs matching the reference: one seed batch of ``members`` WGAN-GP runs."""
    raw = {
        "name": "perf",
        "description": "the reference WGAN-GP toy configuration, for run_bench.py perf",
        "datasets": ["ring8"],
        "gans": ["wgan-gp"],
        "optimizers": [{"name": "adam", "lr": REFERENCE.lr, "betas": list(REFERENCE.betas)}],
        "seeds": members,
        "budget": {"generator_steps": steps},
        "batch_size": REFERENCE.batch_size,
        "model": {"width": width, "depth": 3, "latent_dim": 2},
        # evaluation is excluded from the suite's train_seconds; keep its wall time small
        "eval": {"every": every, "samples": 100, "w1_samples": 50, "critic_samples": 100},
        "recipes": {"wgan-gp": {"n_critic": REFERENCE.critic_iters,
                                "gp_weight": REFERENCE.penalty_weight, "warmup": False}},
        "group_size": members,
    }
    return expand(parse_suite(raw, "perf"))


def time_suite(options: PerfOptions, members: int, device: torch.device,
               env: Environment) -> LoopTiming:
    """The suite's GroupTrainer with ``env``'s speed-ups, timed by its own ``train_seconds``
    between the checkpoint at the end of the warm-up and the last one."""
    total = options.warmup + options.steps
    specs = suite_specs(options.width, members, total, every=options.warmup)
    results = GroupTrainer(specs, device, env).train()
    if any(r.status != FINISHED for r in results):
        raise RuntimeError("a member of the suite's loop diverged")
    seconds = {r["step"]: r["value"] for r in results[0].rows if r["metric"] == TRAIN_SECONDS}
    return LoopTiming("suite", members, total - options.warmup,
                      seconds[total] - seconds[options.warmup],
                      describe_speed_ups(results[0].acceleration))


def describe_speed_ups(plan: dict) -> str:
    """One short phrase for a group's ``AccelPlan.to_dict()``."""
    parts = []
    if plan["compile"]:
        parts.append("compiled " + "+".join(plan["compile"]))
    if plan["cuda_graphs"]:
        parts.append("CUDA graphs")
    if plan.get("fused"):  # recorded since the fused step exists
        parts.append("fused MLP step")
    if any("failed" in note or "differed" in note for note in plan["notes"]):
        parts.append("fell back: see JSON")
    return ", ".join(parts) or "eager"


# --- FID pieces -------------------------------------------------------------------------


def synthetic_features(n: int, dim: int, seed: int, device: torch.device) -> torch.Tensor:
    """[n, dim] float32 features with a full-rank, correlated covariance (scaled noise plus a
    low-rank part), cheap to draw at Inception's 2048 dimensions."""
    gen = torch.Generator().manual_seed(seed)
    rank = min(64, dim)
    scale = torch.rand(dim, generator=gen) + 0.5
    basis = torch.randn(rank, dim, generator=gen) / rank**0.5
    x = torch.randn(n, dim, generator=gen) * scale + torch.randn(n, rank, generator=gen) @ basis
    return (x + seed * 0.1).to(device)


def _numpy_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """pytorch-fid's way: every batch to the host, then np.mean and np.cov."""
    host = np.concatenate([b.cpu().numpy() for b in features.split(PYTORCH_FID_BATCH)])
    return np.mean(host, axis=0), np.cov(host, rowvar=False)


def _streamed_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The suite's way: batches of the evaluator's extractor size into FeatureStats on the
    device."""
    stats = FeatureStats(device=features.device)
    for batch in features.split(FEATURE_BATCH):
        stats.update(batch)
    return stats.mean(), stats.covariance()


def _warm_up(features: torch.Tensor, device: torch.device) -> None:
    """First calls load solvers and allocate workspaces: run each piece once, untimed."""
    _streamed_stats(features)
    _numpy_stats(features)
    small = (np.zeros(8), np.eye(8))
    frechet_distance(*small, *small, device=device)
    calculate_frechet_distance(*small, *small)


def time_fid_pieces(options: PerfOptions, device: torch.device) -> dict:
    """Feature statistics of one synthetic feature set both ways, then the Frechet distance
    between our statistics of two sets: ours on the device (where FeatureStats leaves them),
    pytorch-fid's on the same statistics as float64 host arrays."""
    features = synthetic_features(options.fid_samples, options.fid_dim, 0, device)
    _warm_up(features[: 2 * FEATURE_BATCH, :64], device)
    ours_s, (mu1, s1) = timed(lambda: _streamed_stats(features), device)
    numpy_s, (mu_np, s_np) = timed(lambda: _numpy_stats(features), device)
    stats = {
        "samples": options.fid_samples, "dim": options.fid_dim,
        "ours_seconds": ours_s, "numpy_seconds": numpy_s, "speedup": numpy_s / ours_s,
        "max_abs_mean_diff": float(np.abs(mu1.cpu().numpy() - mu_np).max()),
        "max_rel_cov_diff": float(np.abs(s1.cpu().numpy() - s_np).max() / np.abs(s_np).max()),
    }
    mu2, s2 = _streamed_stats(synthetic_features(options.fid_samples, options.fid_dim, 1,
                                                 device))
    ours_s, ours = timed(lambda: frechet_distance(mu1, s1, mu2, s2), device)
    reference = FrechetReference(mu1, s1)
    cached_s, _ = timed(lambda: reference.distance(mu2, s2), device)
    frechet = {"dim": options.fid_dim, "ours_seconds": ours_s, "ours_cached_seconds": cached_s,
               "ours": ours}
    host = [t.cpu().numpy() for t in (mu1, s1, mu2, s2)]
    theirs_s, theirs = timed(lambda: float(calculate_frechet_distance(*host)), device)
    frechet.update({"pytorch_fid_version": pytorch_fid.__version__,
                    "pytorch_fid_seconds": theirs_s, "pytorch_fid": theirs,
                    "speedup": theirs_s / ours_s, "speedup_cached": theirs_s / cached_s,
                    "rel_diff": abs(ours - theirs) / max(abs(theirs), 1e-12)})
    return {"frechet": frechet, "feature_stats": stats}


# --- the whole comparison ---------------------------------------------------------------


def machine_info(device: torch.device) -> dict:
    """The suite's provenance (commit, versions, device) plus threads and the load average:
    other processes on a shared machine slow both loops down, so figures taken under load are
    not final."""
    return {
        **collect(device),
        "threads": torch.get_num_threads(),
        "load_average_1m": os.getloadavg()[0],
    }


def _median(timings: list[LoopTiming]) -> LoopTiming:
    """The median round (the lower middle one for an even count: a round that was measured)."""
    return sorted(timings, key=lambda t: t.seconds)[(len(timings) - 1) // 2]


def run_perf(options: PerfOptions, env: Environment,
             progress: Callable[[str], None] | None = None) -> dict:
    """Time everything ``options`` asks for, the suite's loop with ``env``'s speed-ups (a
    run's); a JSON-ready dict. ``progress`` hears each stage as it starts."""
    say = progress or (lambda _: None)
    if min(options.steps, options.warmup, options.repeats) < 1 or not options.seeds:
        raise BenchError("perf needs --steps, --warmup and --repeats >= 1 and a seed count")
    device = resolve_device(options.device)
    if env.cuda_graphs == "on" and device.type != "cuda":
        raise BenchError("--cuda-graphs on needs --device cuda")
    if options.fid and options.fid_weights:  # a wrong path fails now, not after the loops
        resolve_weights_path(Path(options.fid_weights))
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    out = {"options": asdict(options), "environment": env.to_dict(),
           "machine": machine_info(device)}
    rounds = []
    for repeat in range(1, options.repeats + 1):
        say(f"round {repeat}/{options.repeats}: the reference loop")
        timings = [time_reference(options, device)]
        for k in options.seeds:
            say(f"round {repeat}/{options.repeats}: the suite's loop, {k} member(s)")
            timings.append(time_suite(options, k, device, env))
        rounds.append(timings)
    loops = [_median(list(timings)) for timings in zip(*rounds, strict=True)]
    reference = loops[0]
    out["training"] = [
        {**asdict(t), "gen_steps_per_s": t.gen_steps_per_s, "samples_per_s": t.samples_per_s,
         "ratio_vs_reference": t.gen_steps_per_s / reference.gen_steps_per_s,
         "seconds_per_round": [r[i].seconds for r in rounds]}
        for i, t in enumerate(loops)
    ]
    if options.fid:
        say("FID pieces: feature statistics and the distance")
        out.update(time_fid_pieces(options, device))
        images = options.fid_images_on(device.type)
        if images > 0:
            say(f"FID end to end: {images} images, against pytorch-fid")
            with warnings.catch_warnings():  # N < FID_DIM is announced in the table instead
                warnings.simplefilter("ignore")
                out["fid_end_to_end"] = time_fid_end_to_end(
                    images, device, Path(options.fid_weights) if options.fid_weights else None,
                    channels_last=env.channels_last != "off")
    out["machine"]["load_average_1m_end"] = os.getloadavg()[0]
    return out


def format_report(result: dict) -> str:
    """The human-readable table of a ``run_perf`` result."""
    m, o = result["machine"], result["options"]
    lines = [
        f"device {m['device']} ({m['device_name']}), torch {m['packages']['torch']}, "
        f"{m['threads']} threads, {m['cpu_count']} CPUs, load average "
        f"{m['load_average_1m']:.2f} at start, {m['load_average_1m_end']:.2f} at end",
        f"toy WGAN-GP, 3x{o['width']} MLPs, batch {REFERENCE.batch_size}, n_critic "
        f"{REFERENCE.critic_iters}, 8 Gaussians; {o['steps']} generator steps timed after "
        f"{o['warmup']} warm-up steps; median of {o['repeats']} interleaved round(s)",
        "",
        f"{'loop':<10} {'members':>7} {'gen steps/s':>12} {'samples/s':>11} {'vs reference':>13}"
        "  speed-ups",
    ]
    for t in result["training"]:
        lines.append(f"{t['loop']:<10} {t['members']:>7} {t['gen_steps_per_s']:>12.2f} "
                     f"{t['samples_per_s']:>11.0f} {t['ratio_vs_reference']:>12.2f}x"
                     f"  {t['speed_ups']}")
    lines.append("(gen steps/s and samples/s are aggregates over members)")
    if "frechet" not in result:
        return "\n".join(lines)
    f, s = result["frechet"], result["feature_stats"]
    lines += ["", f"Frechet distance, {f['dim']}-d statistics:",
              f"  ours         {f['ours_seconds']:9.4f} s (cached reference "
              f"{f['ours_cached_seconds']:.4f} s), value {f['ours']:.6f}"]
    lines += [f"  pytorch-fid  {f['pytorch_fid_seconds']:9.4f} s, value {f['pytorch_fid']:.6f} "
              f"(pytorch-fid {f['pytorch_fid_version']})",
              f"  speed-up of ours {f['speedup']:.1f}x ({f['speedup_cached']:.1f}x with the "
              f"cached reference); relative difference {f['rel_diff']:.1e}"]
    lines += [f"feature statistics, {s['samples']} x {s['dim']}:",
              f"  ours (streamed on {m['device']}) {s['ours_seconds']:.4f} s, numpy on the host "
              f"{s['numpy_seconds']:.4f} s, speed-up {s['speedup']:.2f}x; max relative covariance "
              f"difference {s['max_rel_cov_diff']:.1e}"]
    if "fid_end_to_end" in result:
        lines += format_fid_end_to_end(result["fid_end_to_end"])
    return "\n".join(lines)


def format_fid_end_to_end(e: dict) -> list[str]:
    undersampled = (f" (N < {FID_DIM}: singular covariances, timing only)"
                    if e["images"] < FID_DIM else "")
    lines = [f"FID end to end, {e['images']} images of a 32-px DCGAN generator, Inception "
             f"weights {e['weights']}{undersampled}:",
             f"  ours         {e['ours_seconds']:9.3f} s (strict float32"
             f"{', channels_last' if e['channels_last'] else ''}), FID {e['ours']:.6f}"]
    return lines + [
        f"  pytorch-fid  {e['pytorch_fid_seconds']:9.3f} s (its default precision), FID "
        f"{e['pytorch_fid']:.6f}",
        f"  speed-up of ours {e['speedup']:.1f}x; relative difference {e['rel_diff']:.1e}"]


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=True)
