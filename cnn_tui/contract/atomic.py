"""Atomic file writes: a temp file beside the target, fsync, then rename over it.

A kill at any moment leaves either the old file or the new one, never half of one.
Plain Python (no torch), so the dashboard can use it without importing torch.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


FILE_MODE = 0o666 & ~_umask()  # what open() would have given; mkstemp makes files 0600
DIR_MODE = 0o777 & ~_umask()  # what mkdir would have given; mkdtemp makes folders 0700


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb", fsync: bool = True) -> None:
    """Write through `write(fileobj)` into a temp file beside `path`, then rename over it
    (fsync=False: readers still never see half a file, but a power cut may lose it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), mode="w")


# mkstemp's names above: "." + the target's name + "." + 8 of [a-z0-9_] + ".tmp"
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def is_stale_temp(name: str) -> bool:
    return bool(_TEMP_NAME.match(name))


STALE_SECONDS = 3600.0  # in a shared cache folder: a temp file untouched this long has no writer left


def remove_stale_temps(folder: Path, older_than: float = 0.0) -> list[str]:
    """Delete what an atomic write killed mid-way left in `folder` (a SIGKILL, a power cut):
    only names of this writer's own pattern, only plain files, only those unmodified for
    `older_than` seconds (a folder other processes write in: their temps grow as we look).
    Returns the names removed."""
    removed: list[str] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if is_stale_temp(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                if older_than and now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                    continue
                os.unlink(entry.path)
                removed.append(entry.name)
            except OSError:
                pass
    return removed
