"""Paths the user names for writing, checked before any work starts, and failures while writing
turned into one line (errors.write_failed) instead of a traceback.

Plain Python (no torch): the export, the run's folder and the event sinks all use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

from cnn_tui.contract.errors import WriteError, write_failed


def nearest_existing(path: Path) -> Path:
    """`path` itself if it exists, else the closest folder above it that does."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_folder(path: Path, what: str) -> None:
    """`path` is a folder we can write in, or can be made one: exit 2 now, not a traceback later.
    Tried for real (root passes os.access on a read-only mount or /proc): the missing folders are
    made, a file is made in the last, and all of it is removed again, so a run refused for
    another reason leaves no empty folder behind."""
    absolute = Path(os.path.abspath(path))
    existing = nearest_existing(absolute)
    if not existing.is_dir():
        shown = "" if existing == absolute else f" ({existing} is not a folder)"
        raise WriteError(f"{what} {path}: is a file, not a folder{shown}; give a folder path")
    missing = [absolute, *absolute.parents][: len(absolute.parts) - len(existing.parts)]
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            made.append(folder)
        fd, probe = tempfile.mkstemp(prefix=".cnn-tui-probe.", dir=absolute)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WriteError(f"{what} {path}: cannot write there ({exc.strerror or exc})") from None
    finally:
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass


def make_folder(path: Path, what: str = "create the folder") -> None:
    """mkdir -p, one line on failure (a file in the way, a read-only disk, no permission)."""
    existing = nearest_existing(path)
    if not existing.is_dir():
        raise WriteError(f"{path}: cannot create it: {existing} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(path, exc, what) from None


def open_on_a_fresh_line(path: Path) -> IO[str]:
    """Open `path` for appending, so that what follows starts a new line: a run killed mid-write
    left its last line torn, and the next event must not be glued onto it."""
    handle = open(path, "a", encoding="utf-8")
    try:
        if handle.tell() > 0:
            with open(path, "rb") as reader:
                reader.seek(-1, os.SEEK_END)
                last = reader.read(1)
            if last != b"\n":
                handle.write("\n")
                handle.flush()
    except BaseException:
        handle.close()
        raise
    return handle


__all__ = ["WriteError", "check_folder", "make_folder", "nearest_existing", "open_on_a_fresh_line"]
