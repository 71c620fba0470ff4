"""``scripts/gpu-check.sh``: its CPU dry run end to end, and the summary's pieces."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from bench.perf.gpu_check import main as gpu_check_main
from bench.perf.gpu_check_summary import (
    extrapolate_slice,
    fid_targets,
    read_steps,
    training_targets,
    write_summary,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu-check.sh"


def _dry_run(tmp: Path) -> Path:
    """One packed dry run of the script (toy sizes, about a minute of CPU time), unpacked as
    one would after copying its two files back from a lent GPU."""
    out = tmp / "out"
    # a time box far beyond the dry run's minute, so that a loaded machine skips no step; the
    # steps run this interpreter, not whichever python is first on PATH
    done = subprocess.run([str(SCRIPT), "--device", "cpu", "--no-install", "--pack",
                           "--budget-seconds", "900", "--out", str(out)],
                          capture_output=True, text=True, timeout=1000, cwd=ROOT,
                          env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["gpu-check.tar.gz", "summary.md"]
    unpacked = tmp / "unpacked"
    with tarfile.open(out / "gpu-check.tar.gz") as tar:
        tar.extractall(unpacked, filter="data")
    assert (unpacked / "summary.md").read_text() == (out / "summary.md").read_text()
    return unpacked


def test_dry_run_end_to_end(tmp_path):
    # one test, not a module fixture: xdist workers would each run the dry run again
    out = _dry_run(tmp_path)
    _check_steps(out)
    _check_targets_and_training(out)
    _check_ci_and_slice(out)
    _check_size(out)


def _check_steps(out: Path) -> None:
    """Every step ran, but the CUDA-only ones, and each log starts with its command."""
    steps = read_steps(out)
    assert list(steps) == ["install", "nvidia-smi", "env", "cuda-tests", "perf-w16-on",
                           "perf-w16-off", "fid", "ci-toy-suite", "ci",
                           "paper-toy-slice-suite", "paper-toy-slice", "summary"]
    skipped = {name: s.note for name, s in steps.items() if s.status == "skipped"}
    assert set(skipped) == {"install", "nvidia-smi", "cuda-tests"}
    assert "CUDA-only" in skipped["cuda-tests"]
    for name, step in steps.items():
        if name in skipped:
            continue
        assert step.status == "ok" and step.rc == "0", (name, step)
        log = (out / "logs" / f"{name}.log").read_text()
        assert log.splitlines()[0] == f"$ {step.command}"  # the log starts with its command


def _check_targets_and_training(out: Path) -> None:
    """summary.md puts each figure beside its target, with the command that made it."""
    summary = (out / "summary.md").read_text()
    steps = read_steps(out)
    assert "**CPU dry run**" in summary
    targets = summary.split("## Targets")[1].split("\n## ")[0]
    rows = [line for line in targets.splitlines() if line.startswith("| toy") or
            line.startswith("| FID") or line.startswith("| Frechet")]
    assert len(rows) == 4
    assert all("| n/a" in row for row in rows)  # no GPU verdict from a CPU
    perf = json.loads((out / "perf-w16-on.json").read_text())
    k1 = next(r for r in perf["training"] if r["loop"] == "suite" and r["members"] == 1)
    assert f"{k1['ratio_vs_reference']:.2f}x at width 16" in rows[0]
    assert f"`{steps['perf-w16-on'].command}`" in rows[0]
    assert "K = 64 not run" in rows[1]
    assert "--fid-images 0" in rows[2]
    frechet = json.loads((out / "perf-fid.json").read_text())["frechet"]
    assert f"{frechet['speedup']:.1f}x at 64-d" in rows[3]
    # every perf row of both JSONs is in the training table, on/off beside the speed-ups run
    table = summary.split("## Training speed")[1].split("\n## ")[0]
    for mode in ("on", "off"):
        result = json.loads((out / f"perf-w16-{mode}.json").read_text())
        for r in result["training"]:
            assert (f"| 16 | {mode} | {r['loop']} | {r['members']} | "
                    f"{r['gen_steps_per_s']:.1f} |") in table


def _check_ci_and_slice(out: Path) -> None:
    """The ci speed-ups line and the slice's extrapolation."""
    summary = (out / "summary.md").read_text()
    speed_line = next(line for line in (out / "ci" / "report.md").read_text().splitlines()
                      if line.startswith("- Speed-ups:"))
    assert speed_line in summary.split("## The `ci` suite")[1]

    suite = yaml.safe_load((out / "paper-toy-slice.yaml").read_text())
    assert (suite["datasets"], suite["gans"], suite["optimizers"], suite["seeds"]) == (
        ["ring8"], ["wgan-gp"], ["adam"], 5)
    assert suite["budget"] == {"generator_steps": 100_000}  # what the summary extrapolates to
    runs = sorted((out / "paper-toy-slice" / "runs").iterdir())
    assert len(runs) == 5
    counters = [json.loads((r / "status.json").read_text())["counters"] for r in runs]
    assert all(c == counters[0] for c in counters)  # one group
    assert counters[0]["generator_steps"] > 0 and counters[0]["train_seconds"] >= 2.0
    section = summary.split("## Time-boxed `paper-toy` slice (EXTRAPOLATED)")[1]
    assert f"{counters[0]['generator_steps']:,} generator steps" in section
    assert "**extrapolated, not measured**: 100,000 steps" in section


def _check_size(out: Path) -> None:
    files = [p for p in out.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 20 * 2**20
    assert not [p for p in files if p.name == "models.pt"]
    assert {"steps.tsv", "env.json", "perf-w16-on.json", "perf-fid.json",
            "paper-toy-slice.yaml"} <= {p.name for p in out.iterdir()}
    assert (out / "ci" / "report.md").exists()


def test_script_refuses_bad_input_and_writes_nothing(tmp_path):
    out = tmp_path / "never"
    done = subprocess.run([str(SCRIPT), "--device", "tpu", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.startswith("error: --device")
    assert not out.exists()
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("not the script's")
    done = subprocess.run([str(SCRIPT), "--device", "cpu", "--out", "used"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "is not empty" in done.stderr
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["keep.txt"]


def test_a_spent_time_box_skips_the_steps_and_still_writes_the_summary(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([str(SCRIPT), "--device", "cpu", "--no-install", "--budget-seconds",
                           "21", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = read_steps(out)
    spent = [name for name, s in steps.items() if "time box was spent" in s.note]
    assert spent == ["env", "perf-w16-on", "perf-w16-off", "fid", "ci-toy-suite", "ci",
                     "paper-toy-slice-suite", "paper-toy-slice"]
    assert all(steps[name].status == "skipped" for name in spent)
    assert steps["summary"].status == "ok"
    summary = (out / "summary.md").read_text()
    assert "| paper-toy-slice | skipped |" in summary and "not measured" in summary


def _slice_folder(root: Path, start_up: float, rate: float, steps: list[int],
                  eval_seconds: float) -> Path:
    """A slice's results as ``run`` writes them, with train_seconds = start_up + step / rate
    at every checkpoint after step 0."""
    run = root / "runs" / "ring8__wgan-gp__adam__s0"
    run.mkdir(parents=True)
    rows = ["step,metric,value", "0,train_seconds,0.0"]
    rows += [f"{s},train_seconds,{start_up + s / rate}" for s in steps]
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    counters = {"generator_steps": steps[-1], "train_seconds": start_up + steps[-1] / rate,
                "eval_seconds": eval_seconds}
    (run / "status.json").write_text(json.dumps({"counters": counters}))
    (run / "provenance.json").write_text(json.dumps({"acceleration": {
        "compile": ["generator"], "cuda_graphs": True, "channels_last": False, "notes": []}}))
    return root


def test_extrapolation_takes_start_up_once_and_evaluations_per_checkpoint(tmp_path):
    folder = _slice_folder(tmp_path, start_up=12.0, rate=400.0, steps=[5000, 10000, 15000],
                           eval_seconds=8.0)
    x = extrapolate_slice(folder, 100_000, 5000)
    assert x["steady_rate"] == pytest.approx(400.0)
    assert x["start_up_seconds"] == pytest.approx(12.0)
    assert x["training_seconds_target"] == pytest.approx(12.0 + 250.0)
    assert x["eval_per_checkpoint"] == pytest.approx(2.0)  # 8 s over 4 checkpoints (0 too)
    assert x["checkpoints_target"] == 21
    assert x["total_seconds_target"] == pytest.approx(262.0 + 42.0)


def test_extrapolation_from_one_checkpoint_uses_the_overall_rate(tmp_path):
    folder = _slice_folder(tmp_path, start_up=10.0, rate=100.0, steps=[3000], eval_seconds=1.0)
    x = extrapolate_slice(folder, 100_000, 5000)
    assert x["steady_rate"] == pytest.approx(3000 / 40.0)
    assert x["start_up_seconds"] == 0.0


def _perf(width: int, ratios: dict[int, float]) -> tuple[int, str, dict]:
    rows = [{"loop": "suite", "members": k, "ratio_vs_reference": r, "speed_ups": "CUDA graphs"}
            for k, r in ratios.items()]
    return width, "on", {"training": rows}


def test_training_targets_judge_only_the_targets_conditions():
    perf = [_perf(64, {1: 50.0, 64: 900.0}), _perf(512, {1: 12.0, 64: 99.0})]
    k1, k64 = training_targets(perf, "cuda")
    assert (k1.verdict, k64.verdict) == ("pass", "FAIL")  # width 512 chosen, 99 < 100
    assert "12.00x at width 512" in k1.figure and k1.step == "perf-w512-on"
    k1, k64 = training_targets([_perf(64, {1: 50.0})], "cuda")
    assert k1.verdict == "n/a: width 64, not 512" and k64.verdict == "n/a: not run"
    assert training_targets(perf, "cpu")[0].verdict == "n/a: CPU dry run"


def test_fid_targets_pass_at_the_boundary_and_need_10k_images_at_2048_d():
    fid = {"fid_end_to_end": {"images": 10_000, "ours_seconds": 5.0, "pytorch_fid_seconds": 30},
           "frechet": {"dim": 2048, "speedup": 199.9, "speedup_cached": 400.0}}
    fid_row, frechet_row = fid_targets(fid, "cuda")
    assert (fid_row.verdict, frechet_row.verdict) == ("pass", "FAIL")
    fid["fid_end_to_end"]["images"] = 200
    assert fid_targets(fid, "cuda")[0].verdict == "n/a: 200 images, not 10,000"
    assert fid_targets(None, "cuda")[1].figure == "not measured"


def test_summary_counts_the_cuda_tests_from_junit_xml(tmp_path):
    (tmp_path / "steps.tsv").write_text("cuda-tests\tfailed\t1\t30\tpython -m pytest -m cuda\t\n")
    (tmp_path / "cuda-tests.xml").write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_accel" name="test_a"/>'
        '<testcase classname="tests.test_accel" name="test_b"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_frechet" name="test_c"><skipped message="y"/>'
        "</testcase></testsuite></testsuites>")
    summary = write_summary(tmp_path, "cuda").read_text()
    tests = summary.split("## CUDA-only tests")[1].split("\n## ")[0]
    assert "1 passed, 1 failed, 1 skipped" in tests
    assert "- FAILED tests.test_accel::test_b" in tests
    assert "`python -m pytest -m cuda`" in tests


def test_derive_restricts_axes_sets_keys_and_refuses_unknown_values(tmp_path, capsys):
    path = tmp_path / "slice.yaml"
    assert gpu_check_main(["derive", "paper-toy", str(path), "--keep", "gans=wgan-gp,gan",
                           "--set", "model.width=32", "--set", "eval.every=10"]) == 0
    suite = yaml.safe_load(path.read_text())
    assert suite["gans"] == ["gan", "wgan-gp"] and suite["model"]["width"] == 32
    assert suite["eval"]["every"] == 10 and suite["datasets"] == ["ring8", "grid25", "swissroll"]
    bad = tmp_path / "bad.yaml"
    assert gpu_check_main(["derive", "paper-toy", str(bad), "--keep", "gans=nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --keep gans: nope not in suite") and not bad.exists()
