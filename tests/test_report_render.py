"""The report's figures drawn by a pool of processes: every figure collected in order,
whoever drew it, and a figure that fails is a FigureError naming it, never a hang."""

import os
from pathlib import Path

import pytest

from bench.report.plots import LeftOut
from bench.report.render import (
    MAX_WORKERS,
    FigureError,
    FigurePool,
    figure_workers,
    finished,
    left_out,
)


def _write(path: Path) -> Path:
    path.write_text(path.stem)
    return path


def _fail(path: Path) -> Path:
    raise ValueError(f"planted failure at {path.name}")


def _die(path: Path) -> Path:
    os._exit(1)  # as a worker killed mid-figure


@pytest.mark.parametrize("workers", [0, 1])
def test_every_figure_is_collected_in_order_in_place_or_in_the_pool(tmp_path, workers):
    reason = LeftOut("nothing to draw")
    with FigurePool(workers) as pool:
        pending = [pool.draw(f"figure {i}", _write, tmp_path / f"f{i}.txt") for i in range(6)]
        pending.insert(2, left_out("left out", reason))
        drawn = finished(pending)
    assert [title for title, _ in drawn] == [p.title for p in pending]
    assert drawn[2] == ("left out", reason)
    files = [file for _, file in drawn if not isinstance(file, LeftOut)]
    assert files == [tmp_path / f"f{i}.txt" for i in range(6)]
    assert all(file.read_text() == file.stem for file in files)


@pytest.mark.parametrize("workers", [0, 1])
def test_a_figure_that_raises_is_an_error_naming_it(tmp_path, workers):
    failure = "'broken' failed: ValueError.*planted failure at b"
    with pytest.raises(FigureError, match=failure), FigurePool(workers) as pool:
        finished([pool.draw("broken", _fail, tmp_path / "b.png"),  # a worker's first
                  pool.draw("fine", _write, tmp_path / "f.txt")])


def test_a_worker_that_dies_is_an_error_naming_its_figure_not_a_hang(tmp_path):
    failure = "'killed' failed: BrokenProcessPool"
    with pytest.raises(FigureError, match=failure), FigurePool(1) as pool:
        finished([pool.draw("killed", _die, tmp_path / "k.png")])


def test_the_users_process_count_includes_the_reports_own_process():
    assert figure_workers(1) == 0  # --workers 1: every figure drawn in the report's process
    assert figure_workers(2) == 1
    assert figure_workers(64) == MAX_WORKERS
    assert figure_workers(None) == figure_workers(os.cpu_count())  # one process per core
