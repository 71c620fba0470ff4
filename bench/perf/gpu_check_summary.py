"""``summary.md`` of a ``scripts/gpu-check.sh`` folder: every figure beside its target from
docs/PERFORMANCE.md, pass or fail, and the exact command that produced it.

It reads only the files the script's steps wrote (a step that failed or was skipped leaves
its section saying so):

- ``steps.tsv``: one line per step: name, status, exit code, seconds, command, note;
- ``env.json``, ``cuda-tests.xml`` (JUnit), ``perf-w<W>-<on|off>.json``, ``perf-fid.json``;
- ``ci/report.md``; ``paper-toy-slice.yaml`` and its results folder ``paper-toy-slice/``.
"""

import csv
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from bench.config.suite_yaml import read_yaml
from bench.core.outputs import TRAIN_SECONDS
from bench.perf.gpu_check_suites import suite_mapping
from bench.perf.options import FID_DIM, FID_IMAGES, REFERENCE_WIDTH

TARGET_WIDTH = REFERENCE_WIDTH
"""The reference loop's width: the training targets are stated at it."""
TARGET_FID_IMAGES = FID_IMAGES["cuda"]
TARGET_FID_DIM = FID_DIM
SLICE = "paper-toy-slice"
"""The time-boxed paper-toy group's derived suite (``.yaml``) and results folder."""
SLICE_SOURCE = "paper-toy"
"""The suite the slice is cut from: its budget and evaluation interval are extrapolated to (the
slice may evaluate less often, so that its evaluations fit the time box)."""


@dataclass(frozen=True)
class Step:
    """One line of ``steps.tsv``."""

    name: str
    status: str
    """ok, failed, timed out or skipped."""
    rc: str
    seconds: float
    command: str
    note: str


@dataclass(frozen=True)
class Target:
    """A target of docs/PERFORMANCE.md and the figure measured for it."""

    target: str
    figure: str
    verdict: str
    """pass, FAIL, or why there is no verdict."""
    step: str
    """The step whose command produced the figure."""


def read_steps(folder: Path) -> dict[str, Step]:
    path = folder / "steps.tsv"
    if not path.exists():
        return {}
    steps = {}
    for line in path.read_text().splitlines():
        name, status, rc, seconds, command, note = (line.split("\t") + [""] * 6)[:6]
        steps[name] = Step(name, status, rc, float(seconds or 0), command, note)
    return steps


def _json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _perf_runs(folder: Path) -> list[tuple[int, str, dict]]:
    """(width, on|off, perf JSON) of every training ``perf`` the script ran."""
    runs = []
    for path in folder.glob("perf-w*-*.json"):
        width, mode = path.stem.removeprefix("perf-w").split("-")
        runs.append((int(width), mode, json.loads(path.read_text())))
    return sorted(runs, key=lambda r: (r[0], r[1] == "off"))


def _verdict(ok: bool, conditions: list[str], device: str) -> str:
    """pass / FAIL when the figure was taken as the target states it, else why not."""
    if device != "cuda":
        return "n/a: CPU dry run"
    if conditions:
        return "n/a: " + "; ".join(conditions)
    return "pass" if ok else "FAIL"


def training_targets(perf: list[tuple[int, str, dict]], device: str) -> list[Target]:
    """10x at K = 1 and 100x aggregate at K = 64, from the speed-ups-on run at the reference's
    width (or, in a dry run, the widest one run)."""
    on = {width: result for width, mode, result in perf if mode == "on"}
    targets = []
    for members, goal, label in ((1, 10.0, "single run (K = 1)"),
                                 (64, 100.0, "64 seed-batched runs (aggregate)")):
        target = f"toy WGAN-GP, {label} >= {goal:g}x the reference loop"
        if not on:
            targets.append(Target(target, "not measured (no perf JSON)", "n/a: step failed",
                                  f"perf-w{TARGET_WIDTH}-on"))
            continue
        width = TARGET_WIDTH if TARGET_WIDTH in on else max(on)
        rows = [r for r in on[width]["training"] if r["loop"] == "suite"
                and r["members"] == members]
        step = f"perf-w{width}-on"
        if not rows:
            targets.append(Target(target, f"not measured (K = {members} not run)",
                                  "n/a: not run", step))
            continue
        ratio = rows[0]["ratio_vs_reference"]
        conditions = [f"width {width}, not {TARGET_WIDTH}"] if width != TARGET_WIDTH else []
        targets.append(Target(target, f"{ratio:.2f}x at width {width} ({rows[0]['speed_ups']})",
                              _verdict(ratio >= goal, conditions, device), step))
    return targets


def fid_targets(fid: dict | None, device: str) -> list[Target]:
    """FID on 10k images end to end in at most 5 s; the Frechet distance >= 200x pytorch-fid."""
    fid_target = "FID end to end on 10,000 images <= 5 s, strict float32"
    frechet_target = "Frechet distance >= 200x pytorch-fid at 2048-d"
    if fid is None:
        return [Target(fid_target, "not measured", "n/a: step failed", "fid"),
                Target(frechet_target, "not measured", "n/a: step failed", "fid")]
    e = fid.get("fid_end_to_end")
    if e is None:
        fid_row = Target(fid_target, "not measured (--fid-images 0)", "n/a: not run", "fid")
    else:
        conditions = ([f"{e['images']} images, not {TARGET_FID_IMAGES:,}"]
                      if e["images"] != TARGET_FID_IMAGES else [])
        fid_row = Target(fid_target, f"{e['ours_seconds']:.2f} s for {e['images']:,} images "
                         f"(pytorch-fid's loop {e['pytorch_fid_seconds']:.2f} s)",
                         _verdict(e["ours_seconds"] <= 5.0, conditions, device), "fid")
    f = fid["frechet"]
    conditions = [f"{f['dim']}-d, not {TARGET_FID_DIM}"] if f["dim"] != TARGET_FID_DIM else []
    frechet_row = Target(frechet_target, f"{f['speedup']:.1f}x at {f['dim']}-d "
                         f"({f['speedup_cached']:.1f}x with the cached reference)",
                         _verdict(f["speedup"] >= 200.0, conditions, device), "fid")
    return [fid_row, frechet_row]


def _command(steps: dict[str, Step], name: str) -> str:
    step = steps.get(name)
    return f"`{step.command}`" if step and step.command else "-"


def _targets_section(targets: list[Target], steps: dict[str, Step]) -> list[str]:
    lines = ["## Targets (docs/PERFORMANCE.md)", "",
             "| target | figure | result | command |", "|---|---|---|---|"]
    lines += [f"| {t.target} | {t.figure} | {t.verdict} | {_command(steps, t.step)} |"
              for t in targets]
    return lines


def _training_section(perf: list[tuple[int, str, dict]], steps: dict[str, Step]) -> list[str]:
    lines = ["## Training speed (`perf`, toy WGAN-GP)", ""]
    if not perf:
        return lines + ["No perf run left a JSON: see the steps below.", ""]
    eager = {(w, r["loop"], r["members"]): r["gen_steps_per_s"]
             for w, mode, result in perf if mode == "off" for r in result["training"]}
    lines += ["Aggregate generator steps per second; 'on / off' divides by the same loop with "
              "`--compile off --cuda-graphs off --channels-last off`.", "",
              "| width | speed-ups | loop | K | gen steps/s | vs reference | on / off | "
              "trained with | JSON |", "|---|---|---|---|---|---|---|---|---|"]
    for width, mode, result in perf:
        for r in result["training"]:
            off = eager.get((width, r["loop"], r["members"]))
            speed_up = mode == "on" and off and r["loop"] == "suite"  # the reference has none
            gain = f"{r['gen_steps_per_s'] / off:.2f}x" if speed_up else ""
            lines.append(f"| {width} | {mode} | {r['loop']} | {r['members']} | "
                         f"{r['gen_steps_per_s']:.1f} | {r['ratio_vs_reference']:.2f}x | "
                         f"{gain} | {r['speed_ups']} | perf-w{width}-{mode}.json |")
    lines += ["", "Commands:", ""]
    lines += [f"- {_command(steps, f'perf-w{w}-{m}')}" for w, m, _ in perf]
    return lines + [""]


def _fid_section(fid: dict | None, steps: dict[str, Step]) -> list[str]:
    lines = ["## FID and the Frechet distance (`perf`)", ""]
    if fid is None:
        return lines + ["No FID result: see the `fid` step below.", ""]
    f, s = fid["frechet"], fid["feature_stats"]
    lines += ["| piece | ours | pytorch-fid / numpy | speed-up | agreement |",
              "|---|---|---|---|---|"]
    e = fid.get("fid_end_to_end")
    if e is not None:
        lines.append(f"| FID end to end, {e['images']:,} images (weights {e['weights']}) | "
                     f"{e['ours_seconds']:.3f} s | {e['pytorch_fid_seconds']:.3f} s | "
                     f"{e['speedup']:.1f}x | relative difference {e['rel_diff']:.1e} |")
    lines += [f"| Frechet distance, {f['dim']}-d | {f['ours_seconds']:.4f} s (cached "
              f"reference {f['ours_cached_seconds']:.4f} s) | {f['pytorch_fid_seconds']:.4f} s | "
              f"{f['speedup']:.1f}x | relative difference {f['rel_diff']:.1e} |",
              f"| feature statistics, {s['samples']:,} x {s['dim']} | {s['ours_seconds']:.4f} s "
              f"| {s['numpy_seconds']:.4f} s | {s['speedup']:.2f}x | covariance "
              f"{s['max_rel_cov_diff']:.1e} relative |"]
    if e is None:
        lines += ["", "FID end to end was not run (`--fid-images 0`)."]
    return lines + ["", f"Command: {_command(steps, 'fid')}", ""]


def _tests_section(folder: Path, steps: dict[str, Step]) -> list[str]:
    lines = ["## CUDA-only tests (`pytest -m cuda`)", ""]
    path = folder / "cuda-tests.xml"
    step = steps.get("cuda-tests")
    if step is not None and step.status == "skipped":
        return lines + [f"Not run: {step.note}.", ""]
    if not path.exists():
        return lines + ["No JUnit XML: see the `cuda-tests` step below.", ""]
    cases = ET.parse(path).getroot().iter("testcase")
    outcome: dict[str, list[str]] = {"passed": [], "failed": [], "skipped": []}
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            outcome["skipped"].append(name)
        elif case.find("failure") is not None or case.find("error") is not None:
            outcome["failed"].append(name)
        else:
            outcome["passed"].append(name)
    lines.append(", ".join(f"{len(v)} {k}" for k, v in outcome.items())
                 + f" (cuda-tests.xml). Command: {_command(steps, 'cuda-tests')}")
    lines += [f"- FAILED {name}" for name in outcome["failed"]]
    lines += [f"- skipped {name}" for name in outcome["skipped"]]
    return lines + [""]


def _ci_section(folder: Path, steps: dict[str, Step]) -> list[str]:
    lines = ["## The `ci` suite", ""]
    report = folder / "ci" / "report.md"
    if not report.exists():
        return lines + ["No report.md: see the `ci` step below.", ""]
    setup = report.read_text().splitlines()
    speed = [i for i, line in enumerate(setup) if line.startswith("- Speed-ups:")]
    if speed:
        lines.append(setup[speed[0]])
        for line in setup[speed[0] + 1:]:  # its notes: the indented items right below it
            if not line.startswith("  - "):
                break
            lines.append(line)
    else:
        lines.append("report.md has no speed-ups line.")
    return lines + ["", f"Report: ci/report.md. Command: {_command(steps, 'ci')}", ""]


def extrapolate_slice(results: Path, steps_target: int, every: int) -> dict:
    """Time of the slice's group at ``steps_target`` generator steps, extrapolated from its
    short run: training at the steady rate (between its checkpoints after step 0, so compile
    and capture count once, as start-up), plus one evaluation per checkpoint of the full run
    at the measured mean evaluation time."""
    run_dir = sorted((results / "runs").iterdir())[0]  # members share the group's counters
    counters = json.loads((run_dir / "status.json").read_text())["counters"]
    seconds: dict[int, float] = {}
    with (run_dir / "metrics.csv").open() as f:
        for row in csv.DictReader(f):
            if row["metric"] == TRAIN_SECONDS:
                seconds[int(row["step"])] = float(row["value"])
    trained = sorted(s for s in seconds if s > 0)
    if len(trained) >= 2:
        first, last = trained[0], trained[-1]
        rate = (last - first) / (seconds[last] - seconds[first])
        start_up = seconds[first] - first / rate
    else:
        rate, start_up = counters["generator_steps"] / counters["train_seconds"], 0.0
    eval_per_checkpoint = counters["eval_seconds"] / len(seconds)
    checkpoints = steps_target // every + 1
    training = start_up + steps_target / rate
    return {
        "steps": counters["generator_steps"], "train_seconds": counters["train_seconds"],
        "eval_seconds": counters["eval_seconds"], "checkpoints_run": len(seconds),
        "steady_rate": rate, "start_up_seconds": start_up, "rate_windows": len(trained),
        "eval_per_checkpoint": eval_per_checkpoint, "steps_target": steps_target,
        "checkpoints_target": checkpoints, "training_seconds_target": training,
        "eval_seconds_target": checkpoints * eval_per_checkpoint,
        "total_seconds_target": training + checkpoints * eval_per_checkpoint,
        "acceleration": json.loads((run_dir / "provenance.json").read_text())["acceleration"],
    }


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min ({seconds:,.0f} s)"


def _slice_section(folder: Path, steps: dict[str, Step]) -> list[str]:
    lines = ["## Time-boxed `paper-toy` slice (EXTRAPOLATED)", ""]
    results, suite_file = folder / SLICE, folder / f"{SLICE}.yaml"
    if not (results / "runs").is_dir() or not suite_file.exists():
        return lines + ["No results: see the `paper-toy-slice` step below.", ""]
    suite = read_yaml(suite_file.read_text(), str(suite_file))  # gpu_check_suites derived it
    source = suite_mapping(SLICE_SOURCE)
    (kind, target), = source["budget"].items()
    every = int(source["eval"]["every"])
    x = extrapolate_slice(results, int(target), every)
    resolved = results / "suite.yaml"  # the suite as run resolved it
    ran = read_yaml(resolved.read_text(), str(resolved))["budget"]
    budget = ", ".join(f"`--budget {k}={v:g}`" for k, v in ran.items())
    members = suite["seeds"]
    cell = " / ".join(", ".join(map(str, suite[a])) for a in ("datasets", "gans", "optimizers"))
    how = ("steady rate between the checkpoints after step 0; the time before the first of "
           "them beyond that rate counts once as start-up" if x["rate_windows"] >= 2 else
           "one checkpoint after step 0 only: the rate includes start-up (compile, capture)")
    accel = x["acceleration"]
    used = ", ".join([f"compiled {'+'.join(accel['compile'])}"] * bool(accel["compile"])
                     + ["CUDA graphs"] * accel["cuda_graphs"]) or "eager networks"
    lines += [f"One group of {members} members ({cell}, width {suite['model']['width']}), "
              f"cut from `{SLICE_SOURCE}` and trained under {budget} instead of "
              f"{kind} {int(target):,}, evaluated every {suite['eval']['every']:,} steps, "
              f"speed-ups: {used}" + "".join(f"; {note}" for note in accel["notes"]) + ":", "",
              f"- measured: {x['steps']:,} generator steps in {x['train_seconds']:.1f} s of "
              f"training ({x['steady_rate']:.1f} steps/s per member, {how}; start-up "
              f"{x['start_up_seconds']:.1f} s) and {x['checkpoints_run']} evaluations in "
              f"{x['eval_seconds']:.1f} s ({x['eval_per_checkpoint']:.2f} s each);",
              f"- **extrapolated, not measured**: {x['steps_target']:,} steps = "
              f"{_minutes(x['training_seconds_target'])} of training + "
              f"{x['checkpoints_target']} evaluations (every {every:,} steps, as "
              f"`{SLICE_SOURCE}` evaluates) "
              f"= {_minutes(x['eval_seconds_target'])}, in all "
              f"**{_minutes(x['total_seconds_target'])}** for this group (process start-up and "
              "the report excluded).",
              "", f"Derived suite: {SLICE}.yaml. Command: {_command(steps, SLICE)}", ""]
    return lines


def _steps_section(steps: dict[str, Step]) -> list[str]:
    lines = ["## Steps", "", "| step | status | exit | seconds | command | log / note |",
             "|---|---|---|---|---|---|"]
    for s in steps.values():
        note = s.note or f"logs/{s.name}.log"
        command = f"`{s.command}`" if s.command else ""
        lines.append(f"| {s.name} | {s.status} | {s.rc} | {s.seconds:.0f} | {command} | "
                     f"{note} |")
    total = sum(s.seconds for s in steps.values())
    return lines + ["", f"Steps took {total:.0f} s in all."]


def _header(folder: Path, device: str) -> list[str]:
    env = _json(folder / "env.json") or {}
    packages = env.get("packages", {})
    lines = ["# GPU check", ""]
    if device != "cuda":
        lines += ["**CPU dry run** (`scripts/gpu-check.sh --device cpu`): the same steps at "
                  "toy sizes; no figure below is a GPU figure and no target is judged. "
                  "The CUDA-only steps (nvidia-smi, the CUDA-only tests) were skipped; every "
                  "process ran one thread (OMP_NUM_THREADS=1).", ""]
    if device == "cuda" and env.get("cuda_available") is False:
        lines += ["**torch sees no CUDA device**: every CUDA step failed or skipped.", ""]
    memory = (f", {env['device_memory_gib']:.1f} GiB" if "device_memory_gib" in env else "")
    lines += [f"- device: {env.get('device', '?')} ({env.get('device_name', '?')}{memory})",
              f"- torch {env.get('torch', '?')}, CUDA {env.get('cuda')}, cuDNN "
              f"{env.get('cudnn')}, pytorch-fid {packages.get('pytorch-fid')}, Python "
              f"{env.get('python', '?')}",
              f"- commit {env.get('git_commit')} (dirty: {env.get('git_dirty')}), "
              f"{env.get('cpu_count')} CPUs; full record in env.json"
              + ("; nvidia-smi in logs/nvidia-smi.log"
                 if (folder / "logs" / "nvidia-smi.log").exists() else ""), ""]
    return lines


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_summary(folder: Path, device: str) -> Path:
    """Write ``folder/summary.md`` from what the steps left there; returns its path."""
    steps = read_steps(folder)
    perf = _perf_runs(folder)
    fid = _json(folder / "perf-fid.json")
    targets = training_targets(perf, device) + fid_targets(fid, device)
    lines = (_header(folder, device) + _targets_section(targets, steps) + [""]
             + _training_section(perf, steps) + _fid_section(fid, steps)
             + _tests_section(folder, steps) + _ci_section(folder, steps)
             + _slice_section(folder, steps) + _steps_section(steps))
    lines.append(f"Output folder: {folder_bytes(folder) / 2**20:.1f} MiB before this summary.")
    path = folder / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path
