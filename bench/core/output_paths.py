"""Output paths checked before any work: a command that would fail to write its file or folder
at the end refuses at the start instead, with one line, having written nothing.

Writability is probed with an unnamed temporary file in the nearest existing folder: permission
bits alone miss read-only mounts and root. Files are written atomically (a rename in their
folder) and folders are made with their parents, so that folder is all that must take a file.
"""

import tempfile
from pathlib import Path

from bench.core.errors import BenchError

RESULTS_FOLDER = "give a new folder (or a results folder to resume)"
"""What to give instead of a file where a results folder goes (``run --out``)."""


def _check_writable(path: Path, option: str, folder: Path) -> None:
    """Refuse ``path`` unless ``folder``, or its nearest existing parent, takes a file."""
    folder = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise BenchError(f"{option} {path}: cannot write in {folder} "
                         f"({exc.strerror or exc})") from None


def check_file_to_write(path: Path, option: str) -> None:
    """Refuse an output file ``path`` (given as ``option``) that is a folder, or that no file
    can be written at."""
    path = Path(path)
    if path.is_dir():
        raise BenchError(f"{option} {path} is a directory; name the file to write")
    _check_writable(path, option, path.parent)


def check_folder_to_write(path: Path, option: str,
                          remedy: str = "name a new or existing folder") -> None:
    """Refuse an output folder ``path`` (given as ``option``) that is a file, or that cannot be
    made or written in; ``remedy`` says what to give instead of a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BenchError(f"{option} {path} is a file, not a folder; {remedy}")
    _check_writable(path, option, path)
