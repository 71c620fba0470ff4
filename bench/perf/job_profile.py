"""Where a finished suite's time went: ``python -m bench.perf.job_profile DIR``.

DIR is a results folder a plain ``run`` wrote (the main job: ``python run_bench.py run
--suite quick --out DIR``). The breakdown, in seconds:

- **training** and **evaluation** per GAN x optimizer: each group's own accounting
  (``train_seconds``, ``eval_seconds`` in the runs' status), summed over its groups;
- **evaluation per metric**: each group rebuilt with its runs' final weights (``models.pt``)
  and one checkpoint profiled with cProfile, split by registered metric (plus generating the
  samples and the critic's estimate), times the suite's checkpoints per run: an estimate from
  the final checkpoint, whose samples are the most spread out;
- **writing**: every run folder written again into a scratch store, and one group checkpoint
  per evaluation (``save_checkpoint``) of each group;
- **critic diagnostics**: the suite's experiment run again into a scratch folder;
- **report**: ``build_report`` of a copy of DIR (DIR's own report stays) under cProfile with
  its figures drawn in this process (``workers=0``), split into summary and tables, plots (per
  figure kind) and the claims section (its diagnostics figures included).

Timed in this process, one after another, on the CPU with one torch thread, as each worker
of a suite's process pool on a 2-core machine runs; the wall time of the run itself
(``time``) is what to compare the sum with.
"""

import argparse
import cProfile
import json
import pstats
import shutil
import tempfile
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.config.expansion import expand
from bench.core.results import Counters, RunResult
from bench.core.specs import RunSpec
from bench.experiments.critic_diagnostics import run_critic_diagnostics
from bench.metrics.registry import METRICS
from bench.orchestration.runner import plan_groups
from bench.report.build import build_report
from bench.storage.run_files import load_metrics, load_status
from bench.storage.store import ResultsStore
from bench.training.checkpoint import save_checkpoint
from bench.training.trainer import GroupTrainer

REPORT_PARTS = {
    "summary and tables": ("build_summary", "cell_statistics", "divergence_table",
                           "markdown_table"),
    "plots: metric curves": ("metric_curves",),
    "plots: final metrics": ("final_metrics_plot",),
    "plots: samples": ("samples_plot", "image_grids_plot"),
    "claims (verdicts, their plots and diagnostics figures)": ("claims_section",),
    "study section": ("study_section",),
}
"""Report parts by the functions whose cumulative time they are."""


def _cumulative(stats: pstats.Stats, names: tuple[str, ...]) -> float:
    """Summed cumulative seconds of the functions called ``names`` (outermost calls only:
    cProfile's cumulative time already counts recursion once)."""
    return sum(entry[3] for (_, _, name), entry in stats.stats.items() if name in names)


def _profiled(fn) -> tuple[float, pstats.Stats]:
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.runcall(fn)
    return time.perf_counter() - start, pstats.Stats(profile)


def training_and_evaluation(store: ResultsStore) -> pd.DataFrame:
    """Per GAN x optimizer: groups, training and evaluation seconds (members share them)."""
    runs = store.load_runs()
    groups = runs.drop_duplicates(["gan", "optimizer", "train_seconds", "eval_seconds"])
    return groups.groupby(["gan", "optimizer"]).agg(
        groups=("run_id", "size"), train_seconds=("train_seconds", "sum"),
        eval_seconds=("eval_seconds", "sum")).reset_index()


def _load_members(trainer: GroupTrainer, store: ResultsStore) -> None:
    """Each member's final weights from its run's models.pt into the group's networks."""
    for member, spec in enumerate(trainer.specs):
        state = torch.load(store.runs_dir / spec.run_id / "models.pt", weights_only=True)
        with torch.no_grad():
            for prefix, network in (("generator", trainer.generator),
                                    ("critic", trainer.critic)):
                for name, p in network.named_parameters():
                    p[member].copy_(state[f"{prefix}.{name}"][0])


def evaluation_per_metric(store: ResultsStore, groups: list[list[RunSpec]],
                          checkpoints: int) -> dict[str, float]:
    """Estimated evaluation seconds of the whole suite per part (see the module doc)."""
    parts: dict[str, float] = defaultdict(float)
    computes = {m.compute.__name__: name for name, m in METRICS.items()}
    for group in groups:
        trainer = GroupTrainer(group, torch.device("cpu"))
        _load_members(trainer, store)
        alive = np.ones(trainer.k, dtype=bool)
        seconds, stats = _profiled(partial(trainer.evaluator.evaluate, trainer.generator,
                                           trainer.critic, alive))
        named = {"generating samples": _cumulative(stats, ("generate",)),
                 "critic estimate (scoring held-out and generated samples)":
                     _cumulative(stats, ("_score", "wasserstein_estimate",
                                         "jensen_shannon_estimate"))}
        named |= {f"metric {metric}": _cumulative(stats, (compute,))
                  for compute, metric in computes.items()}
        named["the rest (real samples, features, bookkeeping)"] = seconds - sum(named.values())
        for part, value in named.items():
            parts[part] += value * checkpoints
    return dict(parts)


def writing(store: ResultsStore, groups: list[list[RunSpec]], checkpoints: int) -> dict:
    """Seconds to write every run folder again, and each group's checkpoints."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch_store = ResultsStore(Path(scratch))
        start = time.perf_counter()
        for group in groups:
            for spec in group:
                folder = store.runs_dir / spec.run_id
                with np.load(folder / "samples.npz") as samples:
                    arrays = {k: samples[k] for k in samples.files}
                status = load_status(folder)  # the same run again: the store checks it
                result = RunResult(
                    spec, rows=pd.read_csv(folder / "metrics.csv").to_dict("records"),
                    status=status["status"], diverged_step=status["diverged_step"],
                    counters=Counters(**status["counters"]), samples=arrays,
                    state=torch.load(folder / "models.pt", weights_only=True))
                scratch_store.write_run(result, {})
        run_folders = time.perf_counter() - start
        start = time.perf_counter()
        for index, group in enumerate(groups):
            trainer = GroupTrainer(group, torch.device("cpu"))
            results = [RunResult(spec, rows=pd.read_csv(store.runs_dir / spec.run_id
                                                        / "metrics.csv").to_dict("records"))
                       for spec in group]
            state = trainer.state_dict(results, Counters(), np.ones(len(group), dtype=bool),
                                       {"critic": 0, "generator": 0})
            save_checkpoint(Path(scratch) / f"group{index}.pt", state)
        checkpoint_files = (time.perf_counter() - start) * checkpoints
    return {"run folders": run_folders, "group checkpoints": checkpoint_files}


def report_parts(root: Path) -> dict[str, float]:
    """The report's time by part, built in a copy of ``root``: its own report stays."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / root.name
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".lock"))
        seconds, stats = _profiled(lambda: build_report(copy, workers=0))  # cProfile sees them
    parts = {part: _cumulative(stats, names) for part, names in REPORT_PARTS.items()}
    parts["the rest (markdown, CSVs, loading)"] = seconds - sum(parts.values())
    return parts


def profile_job(root: Path) -> dict:
    """The breakdown of the suite finished in ``root`` (see the module doc)."""
    # a pool worker's (bench.orchestration.executors.local); none wait on another
    torch.set_num_threads(1)
    store = ResultsStore(root)
    config = store.verify()
    groups = plan_groups(expand(config), config.group_size)
    metrics = load_metrics(store.run_dirs()[0])
    checkpoints = metrics["step"].nunique()
    out: dict = {"suite": config.name, "groups": len(groups), "checkpoints": checkpoints,
                 "threads": torch.get_num_threads()}
    out["training_and_evaluation"] = training_and_evaluation(store).to_dict("records")
    out["evaluation_per_metric"] = evaluation_per_metric(store, groups, checkpoints)
    out["writing"] = writing(store, groups, checkpoints)
    if config.diagnostics is not None:
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            run_critic_diagnostics(Path(scratch), torch.device("cpu"), config.diagnostics)
            out["critic_diagnostics"] = time.perf_counter() - start
    out["report"] = report_parts(root)
    return out


def format_profile(p: dict) -> str:
    lines = [f"suite {p['suite']}: {p['groups']} groups, {p['checkpoints']} checkpoints per "
             f"run, {p['threads']} threads (seconds)",
             "training / evaluation per GAN x optimizer (the groups' own accounting):"]
    for row in p["training_and_evaluation"]:
        lines.append(f"  {row['gan']:10} {row['optimizer']:16} train {row['train_seconds']:8.1f}"
                     f"  eval {row['eval_seconds']:7.1f}")
    sections = [("evaluation per part (final checkpoint x checkpoints):",
                 p["evaluation_per_metric"]), ("writing:", p["writing"]),
                ("report:", p["report"])]
    for title, parts in sections:
        lines.append(title)
        lines += [f"  {name:58} {value:8.1f}" for name, value in parts.items()]
    if "critic_diagnostics" in p:
        lines.append(f"critic diagnostics experiment: {p['critic_diagnostics']:.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.job_profile",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a finished suite's results folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    profile = profile_job(args.results)
    print(json.dumps(profile, indent=2) if args.json else format_profile(profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
