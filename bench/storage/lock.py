"""One driver per suite folder: ``<out>/.lock``, held with ``flock`` while a driver runs.

The kernel releases a ``flock`` when its holder's file descriptor closes, so the lock dies with
the process, however it dies (SIGKILL included): there are no stale locks to clean up. The file
holds the holder's pid so a refused driver can say who has the folder. POSIX only (fcntl).
"""

import fcntl
import os
from pathlib import Path
from types import TracebackType

from bench.core.errors import BenchError

LOCK_FILE = ".lock"


class SuiteLock:
    """Exclusive use of a suite folder; a second holder gets a BenchError naming the first."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> "SuiteLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise BenchError(
                f"{self.path.parent} is in use by another run (pid {holder}); wait for it to "
                "finish, or write to another --out folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # no pid of a finished driver left behind
            os.close(self._fd)  # closing releases the lock
            self._fd = None
