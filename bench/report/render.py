"""The report's figures drawn at once by a pool of processes and the report's own process.

A figure is a job: a module-level plotting function and its arguments (both pickle), which
writes one file and returns it, or returns ``LeftOut``. Figures are independent: the pool's
workers draw them from the first while the report's process judges the claims; waiting for
them, the report's process draws those no worker has started, from the last. A worker is a
fresh interpreter (spawn) on matplotlib's Agg backend, so it writes the file the same
function writes in the report's process. With no workers every figure draws in place, in
order.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plotting stack: not for the command line's --help, which reads the limit
    from bench.report.plots import Drawn, LeftOut

MAX_WORKERS = 3
"""Each worker imports the plotting stack (seconds of CPU) before its first figure; a
report's ~20 figures gain little from more workers than this."""


def figure_workers(processes: int | None = None) -> int:
    """Figure workers when the user allows ``processes`` processes (``--workers``; None: one
    per core): the report's own process is one of them, at most ``MAX_WORKERS`` more."""
    return min((processes or os.cpu_count() or 1) - 1, MAX_WORKERS)


def _draw_off_screen() -> None:
    """A worker's start: matplotlib's Agg backend, which draws to files with no display."""
    import matplotlib

    matplotlib.use("Agg")


class FigureError(RuntimeError):
    """A figure's job raised (its traceback is the cause), or its worker died."""


@dataclass(frozen=True)
class PendingFigure:
    """A figure being drawn: its title in the report, its job and the job's outcome."""

    title: str
    function: Callable[..., Drawn]
    args: tuple
    future: cf.Future


def _drawn_here(title: str, function: Callable[..., Drawn], args: tuple) -> Drawn:
    try:
        return function(*args)
    except Exception as exc:
        raise FigureError(f"the report's figure '{title}' failed: {exc!r}") from exc


def _settled(drawn: Drawn) -> cf.Future:
    future: cf.Future = cf.Future()
    future.set_result(drawn)
    return future


def left_out(title: str, reason: LeftOut) -> PendingFigure:
    """A figure that does not apply: nothing to draw."""
    return PendingFigure(title, lambda: reason, (), _settled(reason))


class FigurePool:
    """Draws figure jobs; a context manager, closed once every figure is collected."""

    def __init__(self, workers: int | None = None) -> None:
        """``workers`` processes beside this one (default ``figure_workers()``); 0 draws
        every figure in place as it is asked for."""
        workers = figure_workers() if workers is None else workers
        self._pool = None
        if workers > 0:
            self._pool = cf.ProcessPoolExecutor(
                workers, mp_context=mp.get_context("spawn"),  # no fork: safe with threads
                initializer=_draw_off_screen)

    def __enter__(self) -> FigurePool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:  # after an error, the figures not started are dropped
            self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)

    def draw(self, title: str, function: Callable[..., Drawn], *args) -> PendingFigure:
        """Draw ``function(*args)``, the figure called ``title``: in the pool, else here at
        once (a FigureError naming it if it raises)."""
        if self._pool is not None:
            return PendingFigure(title, function, args, self._pool.submit(function, *args))
        return PendingFigure(title, function, args, _settled(_drawn_here(title, function, args)))


def finished(figures: list[PendingFigure],
             announce: Callable[[str], None] | None = None) -> list[tuple[str, Drawn]]:
    """Wait for ``figures``, drawing here, from the last, those no worker has started:
    (title, its file or why it was left out) each, in order; ``announce`` hears of each as
    it is collected. A FigureError names the first that failed."""
    here = {}
    for index in reversed(range(len(figures))):
        figure = figures[index]
        if figure.future.cancel():  # still queued: the workers are busy with earlier ones
            here[index] = _drawn_here(figure.title, figure.function, figure.args)
    drawn = []
    for index, figure in enumerate(figures):
        if index in here:
            drawn.append((figure.title, here[index]))
        else:
            try:
                drawn.append((figure.title, figure.future.result()))
            except Exception as exc:  # the job's own exception, or BrokenProcessPool
                raise FigureError(f"the report's figure '{figure.title}' failed: "
                                  f"{exc!r}") from exc
        if announce is not None:
            announce(f"figure {index + 1}/{len(figures)}: {figure.title}")
    return drawn
