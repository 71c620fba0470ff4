"""A verified results folder: every run sealed by its manifest, every file read through its
loader, every damaged file refused (one error line, exit 2) before anything is read or
written; resume of a partly missing group never clobbers; names too long are refused."""

import hashlib
import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bench.cli import main
from bench.config.suite import load_suite
from bench.storage.rounds import Design, Round, Rounds
from bench.storage.store import ResultsStore
from tests.conftest import slow_property, tiny_suite

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "results" / "baselines" / "ci"
RUN_FILES = ("config.json", "status.json", "metrics.csv", "provenance.json", "manifest.json")
MODES = ("truncated", "garbage", "binary", "deleted", "wrong types")
WRONG_VALUES = ("x", 1.5, -3, [1], {"a": 1}, None, True)
TRAINING_KEYS = ("datasets", "gans", "optimizers", "seeds", "budget", "batch_size", "model",
                 "eval")
"""suite.yaml's keys every run's config.json is checked against (the rest, claims:, gates:,
description:, may be edited; a key left out takes its default)."""
READ_KEYS = {
    "config.json": ("run_id", "dataset", "gan", "optimizer_label", "seed", "study", "eval",
                    "budget", "optimizer", "evaluation"),
    "status.json": ("status", "diverged_step", "counters"),
    "provenance.json": ("packages", "acceleration"),
    "manifest.json": ("format", "files", "metrics"),
    "rounds.json": ("design", "alpha", "rounds"),
}
"""Keys each loader guards: a wrong type there must be refused (the rest is not read)."""


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished tiny suite with the CI gates, its report built."""
    root = tmp_path_factory.mktemp("finished")
    suite = root / "suite.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite(gates=load_suite("ci").to_dict()["gates"])))
    out = root / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out), "--device", "cpu",
                 "--workers", "1", "--no-progress"]) == 0
    return out


def _run(*argv: str, capsys) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def _one_error_line(err: str) -> None:
    """One ``error:`` line, after any stage lines the command printed (``compare: ...``)."""
    *stages, last = err.splitlines()
    assert last.startswith("error: ") and "Traceback" not in err, err
    assert all(line.startswith(("compare: ", "report: ")) for line in stages), err


def _other_value(data, now):
    return data.draw(st.sampled_from([v for v in WRONG_VALUES if v != now]), label="value")


@st.composite
def corruptions(draw, kinds: tuple[str, ...]):
    kind = draw(st.sampled_from(kinds))
    modes = [m for m in MODES if not (kind == "rounds.json" and m == "deleted")]
    return kind, draw(st.sampled_from(modes)), draw(st.data())


def _corrupt(path: Path, mode: str, data) -> None:
    """Damage ``path`` as a crash, a disk or a hand would."""
    original = path.read_bytes()
    if mode == "deleted":
        path.unlink()
    elif mode == "truncated":
        end = len(original)
        if path.name == "suite.yaml":  # cut within the training settings (see below)
            end = original.index(b"\nmodel:")
        path.write_bytes(original[:data.draw(st.integers(0, end - 1), label="cut")])
    elif mode == "garbage":
        text = data.draw(st.text(max_size=200), label="garbage").encode()
        path.write_bytes(text if text != original else b"garbage")
    elif mode == "binary":  # 0xff is never UTF-8
        path.write_bytes(b"\xff" + data.draw(st.binary(max_size=200), label="bytes"))
    elif path.suffix == ".csv":
        rows = path.read_text().splitlines()
        line = data.draw(st.integers(1, len(rows) - 1), label="row")
        cells = rows[line].split(",")
        cells[data.draw(st.sampled_from([0, 2]), label="column")] = "abc"
        rows[line] = ",".join(cells)
        path.write_text("\n".join(rows) + "\n")
    elif path.suffix == ".yaml":
        raw = yaml.safe_load(path.read_text())
        key = data.draw(st.sampled_from(TRAINING_KEYS), label="key")
        raw[key] = _other_value(data, raw[key])  # None would be the key's default
        raw[key] = "x" if raw[key] is None else raw[key]
        path.write_text(yaml.safe_dump(raw))
    else:
        raw = json.loads(path.read_text())
        key = data.draw(st.sampled_from(READ_KEYS[path.name]), label="key")
        raw[key] = _other_value(data, raw.get(key))
        path.write_text(json.dumps(raw))


def _target(folder: Path, kind: str, data) -> Path:
    if kind in ("suite.yaml", "rounds.json"):
        if kind == "rounds.json":  # as run --until-decided leaves it
            Rounds(Design(2, 6, 2), 0.05, [Round(0, 0.01, {}, {"claim 1": "supported"}, 0)]
                   ).save(folder)
        return folder / kind
    runs = sorted(p.name for p in (folder / "runs").iterdir())
    return folder / "runs" / data.draw(st.sampled_from(runs), label="run") / kind


# suite.yaml is the one file a user may edit (claims:, gates:, description:), so it has no
# manifest; a cut that leaves a valid suite with the runs' settings is such an edit. Its cuts
# fall within the training settings, which every run's config.json is checked against.
@slow_property(30)
@given(corruption=corruptions(("suite.yaml", "rounds.json", *RUN_FILES)))
def test_a_damaged_file_is_refused_by_report_compare_and_resume(finished, tmp_path_factory,
                                                                 capsys, corruption):
    kind, mode, data = corruption
    folder = tmp_path_factory.mktemp("damaged") / "out"
    shutil.copytree(finished, folder)
    path = _target(folder, kind, data)
    _corrupt(path, mode, data)
    before = _files(folder)
    commands = [("report", str(folder)), ("run", "--resume", str(folder), "--no-progress",
                                          "--device", "cpu")]
    if kind != "rounds.json":  # the gate does not read it
        commands += [("compare", str(finished), str(folder)),
                     ("compare", str(folder), str(finished))]
    named = kind if kind == "suite.yaml" else str(path.parent / kind)
    for argv in commands:
        code, err = _run(*argv, capsys=capsys)
        assert code == 2, (argv, err)
        _one_error_line(err)
        # a changed suite.yaml may be refused as a suite that differs from the other side's
        assert named in err or (argv[0] == "compare" and kind == "suite.yaml" and (
            "between baseline and candidate" in err or "different suites" in err)), (argv, err)
    # nothing written, nothing repaired: no half-built report, the other files as they were
    assert _files(folder) == before


@slow_property(20)
@given(corruption=corruptions(("config.json", "status.json", "metrics.csv",
                               "provenance.json")))
def test_verify_refuses_a_damaged_unsealed_folder_and_seals_nothing(finished,
                                                                    tmp_path_factory, capsys,
                                                                    corruption):
    """A folder written before manifests: its files' loaders and cross-checks are all that
    stand between a damaged file and the report."""
    kind, mode, data = corruption
    folder = tmp_path_factory.mktemp("unsealed") / "out"
    shutil.copytree(finished, folder)
    for manifest in (folder / "runs").glob("*/manifest.json"):
        manifest.unlink()
    path = _target(folder, kind, data)
    _corrupt(path, mode, data)
    before = _files(folder)
    code, err = _run("verify", str(folder), capsys=capsys)
    assert code == 2, err
    _one_error_line(err)
    assert str(path) in err
    assert {k: v for k, v in _files(folder).items() if not k.endswith(".lock")} == {
        k: v for k, v in before.items() if not k.endswith(".lock")}


def test_every_run_is_sealed_and_an_unsealed_folder_is_sealed_by_verify(finished, tmp_path,
                                                                        capsys):
    for run in (finished / "runs").iterdir():
        manifest = json.loads((run / "manifest.json").read_text())
        on_disk = {p.name for p in run.iterdir()} - {"manifest.json"}
        assert set(manifest["files"]) == on_disk
        for name, record in manifest["files"].items():
            data = (run / name).read_bytes()
            assert record == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        rows = pd.read_csv(run / "metrics.csv")
        assert manifest["metrics"] == {"rows": len(rows), "last_step": 6}
    old = tmp_path / "old"
    shutil.copytree(finished, old)
    for manifest in (old / "runs").glob("*/manifest.json"):
        manifest.unlink()
    code, err = _run("report", str(old), capsys=capsys)
    assert code == 2 and f"'run_bench.py verify {old}'" in err
    assert main(["verify", str(old)]) == 0
    assert "6 runs verified (6 sealed now)" in capsys.readouterr().out
    assert _files(old / "runs") == _files(finished / "runs")  # the same manifests


def test_a_run_cut_back_is_refused_even_with_a_matching_manifest(finished, tmp_path, capsys):
    """metrics.csv cut to its step-3 rows, the manifest's digest and extent forged to match:
    its status still says step 6, so the folder is refused, and verify will not seal it."""
    folder = tmp_path / "cut"
    shutil.copytree(finished, folder)
    run = folder / "runs" / "ring8__gan__adam__s0"
    rows = pd.read_csv(run / "metrics.csv")
    rows[rows["step"] <= 3].to_csv(run / "metrics.csv", index=False)
    data = (run / "metrics.csv").read_bytes()
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["files"]["metrics.csv"] = {"sha256": hashlib.sha256(data).hexdigest(),
                                        "size": len(data)}
    manifest["metrics"] = {"rows": int((rows["step"] <= 3).sum()), "last_step": 3}
    (run / "manifest.json").write_text(json.dumps(manifest))
    for argv in (("report", str(folder)), ("compare", str(finished), str(folder))):
        code, err = _run(*argv, capsys=capsys)
        assert code == 2 and "finished at step 6 (truncated?)" in err, err
    (run / "manifest.json").unlink()
    code, err = _run("verify", str(folder), capsys=capsys)
    assert code == 2 and "finished at step 6 (truncated?)" in err, err


def test_resume_retrains_missing_runs_into_fresh_folders_and_never_clobbers(finished,
                                                                             tmp_path,
                                                                             capsys):
    folder = tmp_path / "partial"
    shutil.copytree(finished, folder)
    kept = _files(folder / "runs" / "ring8__wgan-gp__adam__s1")
    shutil.rmtree(folder / "runs" / "ring8__wgan-gp__adam__s0")  # one run of a group gone
    (folder / "runs" / "ring8__gan__adam__s1" / "status.json").unlink()  # one damaged
    code, err = _run("run", "--resume", str(folder), "--no-progress", "--device", "cpu",
                     capsys=capsys)
    assert code == 2 and "ring8__gan__adam__s1/status.json: missing" in err
    assert f"delete {folder / 'runs' / 'ring8__gan__adam__s1'}" in err
    shutil.rmtree(folder / "runs" / "ring8__gan__adam__s1")  # as the error says
    assert main(["run", "--resume", str(folder), "--no-progress", "--device", "cpu",
                 "--no-report"]) == 0
    assert "trained 2 runs (0 diverged, 4 already done)" in capsys.readouterr().out
    assert _files(folder / "runs" / "ring8__wgan-gp__adam__s1") == kept  # untouched
    # the retrained runs equal the originals (timings aside): same seeds, same groups
    for run in ("ring8__wgan-gp__adam__s0", "ring8__gan__adam__s1"):
        new = pd.read_csv(folder / "runs" / run / "metrics.csv")
        old = pd.read_csv(finished / "runs" / run / "metrics.csv")
        quality = ~new["metric"].str.contains("seconds|per_s")
        pd.testing.assert_frame_equal(new[quality], old[quality])
    assert main(["verify", str(folder)]) == 0


@pytest.mark.parametrize(("override", "message"), [
    ({"optimizers": [{"name": "adam", "label": "a" * 250}]},
     "optimizers: label 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': its run folder"),
    ({"name": "n" * 300}, "name: nnnn"),
])
def test_a_name_too_long_for_the_filesystem_is_refused_before_anything_is_written(
        tmp_path, capsys, override, message):
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite(**override)))
    out = tmp_path / "out"
    code, err = _run("run", "--suite", str(suite), "--out", str(out), "--device", "cpu",
                     capsys=capsys)
    assert code == 2 and message in err and "over the filesystem's 255" in err
    _one_error_line(err)
    assert not out.exists()


def test_the_ci_baseline_is_sealed_and_verifies_in_under_a_second():
    store = ResultsStore(BASELINE)
    start = time.perf_counter()
    store.verify()
    assert time.perf_counter() - start < 1.0
