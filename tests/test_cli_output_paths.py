"""Every output path is checked before any work (bench.core.output_paths): a file where a
folder is needed or the other way round, or a place nothing can be written, is one `error:`
line, exit 2, nothing written, for every command that takes one."""

import errno
from pathlib import Path

import pytest
import yaml

from bench.cli import main
from bench.core import output_paths
from bench.core.errors import BenchError
from bench.core.output_paths import check_file_to_write, check_folder_to_write
from tests.conftest import tiny_suite


@pytest.fixture
def places(tmp_path) -> dict[str, Path]:
    (tmp_path / "a-file").write_text("mine")
    (tmp_path / "a-folder").mkdir()
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite(gans=["gan"], seeds=1)))
    return {"file": tmp_path / "a-file", "folder": tmp_path / "a-folder",
            "under a file": tmp_path / "a-file" / "out", "suite": suite}


def _refused(argv: list[str], says: str, tmp_path: Path, capsys) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and err.count("\n") == 1, err
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("place, says", [("file", " is a file, not a folder"),
                                         ("under a file", ": cannot write in")])
def test_run_out(places, place, says, tmp_path, capsys):
    _refused(["run", "--suite", str(places["suite"]), "--out", str(places[place])],
             f"--out {places[place]}{says}", tmp_path, capsys)


def test_run_tensorboard(places, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    board = places["under a file"]
    _refused(["run", "--suite", str(places["suite"]), "--out", str(tmp_path / "out"),
              "--tensorboard", str(board)], f"--tensorboard {board}: cannot write in",
             tmp_path, capsys)


def test_report_of_a_folder_nothing_can_be_written_in(places, tmp_path, monkeypatch, capsys):
    _unwritable(monkeypatch)
    _refused(["report", str(places["folder"])], f"report {places['folder']}: cannot write in",
             tmp_path, capsys)


@pytest.mark.parametrize("place, says", [("folder", "is a directory; name the file"),
                                         ("under a file", "cannot write in")])
def test_perf_out(places, place, says, tmp_path, capsys):
    for mode in ([], ["--study"], ["--roofline"]):
        _refused(["perf", *mode, "--out", str(places[place]), "--device", "cpu"], says,
                 tmp_path, capsys)


def _unwritable(monkeypatch) -> None:
    """Every folder refuses a file, as a read-only mount does (even to root)."""
    def refuse(**_):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(output_paths.tempfile, "TemporaryFile", refuse)


def test_the_checks_name_the_option_the_path_and_why(tmp_path, monkeypatch):
    check_file_to_write(tmp_path / "new" / "deeper" / "x.json", "--out")  # parents get made
    check_folder_to_write(tmp_path / "new" / "deeper", "--out")
    assert not (tmp_path / "new").exists()
    with pytest.raises(BenchError, match="--out .* is a file, not a folder; start afresh"):
        (tmp_path / "f").write_text("")
        check_folder_to_write(tmp_path / "f", "--out", "start afresh")
    _unwritable(monkeypatch)
    with pytest.raises(BenchError, match=rf"--x {tmp_path}/y.md: cannot write in {tmp_path} "
                                         r"\(Permission denied\)"):
        check_file_to_write(tmp_path / "y.md", "--x")
