"""The scratch folder of a run the dashboard starts, and the sweep of those whose run is over.

A run started from the dashboard writes its output log and its run-dir note into a folder of its
own in the temporary folder (ChildRun). While the dashboard follows the run to its end, it removes
that folder itself. A run the dashboard left training (`q` → leave it running, a killed dashboard,
a dropped SSH link) outlives it, so nobody removed its folder afterwards: one folder per such run,
kept forever. So the folder also records its run's process, and each new run started from a
dashboard first sweeps the folders of runs that are over.

What the sweep removes, and nothing else: folders in the temporary folder named as ours
(`cnn-tui-run-*`), real folders (not links) owned by this user, holding only the files a run writes
there (and the temporary files of an atomic write killed mid-way), with a process record whose
process is gone (by pid *and* start time: a pid is reused), and nothing in them modified for
SWEEP_AFTER_S. A folder still starting (no record yet), a live run's, or one holding anything else
is left alone.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

from cnn_tui.contract.atomic import atomic_write_text, is_stale_temp
from cnn_tui.record.owner import process_start

PREFIX = "cnn-tui-run-"
LOG = "output.log"  # the run's stdout and stderr
NOTE = "run_dir"  # where its run directory is (`cnn-tui run --run-dir-file`)
PROCESS = "process"  # "PID START": its process, recorded once it has started
FILES = frozenset({LOG, NOTE, PROCESS})
SWEEP_AFTER_S = 600.0  # untouched this long, its process gone: a dashboard following it has read it


def make() -> Path:
    """A new folder, readable by this user only (mkdtemp's 0700)."""
    return Path(tempfile.mkdtemp(prefix=PREFIX))


def record_process(folder: Path, pid: int) -> None:
    """Say which process the folder belongs to (written once it has started; atomic)."""
    start = process_start(pid)
    atomic_write_text(folder / PROCESS, f"{pid} {'' if start is None else start}\n")


def sweep(parent: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the scratch folders in `parent` (the temporary folder) whose run is over; returns them."""
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = [entry for entry in os.scandir(parent) if entry.name.startswith(PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        folder = Path(entry.path)
        if _over(folder, now):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _over(folder: Path, now: float) -> bool:
    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False  # a link, a file, or another user's
        names = os.listdir(folder)
        if PROCESS not in names or not all(_ours(name) for name in names):
            return False  # still starting, or holding something we did not write
        files = [(folder / name).lstat() for name in names]
        if not all(stat.S_ISREG(file.st_mode) for file in files):
            return False  # a folder or a link where a run writes a plain file: not what a run left
        if now - max(file.st_mtime for file in files) < SWEEP_AFTER_S:
            return False
        pid, start = _read_process(folder / PROCESS)
    except (OSError, ValueError):
        return False
    return _gone(pid, start)


def _ours(name: str) -> bool:
    if name in FILES:
        return True
    return is_stale_temp(name) and name.split(".")[1] in FILES


def _read_process(path: Path) -> tuple[int, float | None]:
    fields = path.read_text(encoding="utf-8").split()
    if len(fields) not in (1, 2) or not fields[0].isdigit() or int(fields[0]) < 1:
        raise ValueError(f"not a process record: {fields!r}")
    return int(fields[0]), float(fields[1]) if len(fields) == 2 else None


def _gone(pid: int, start: float | None) -> bool:
    """The recorded process has ended. Where that cannot be told apart from a live one, it has not."""
    current = process_start(pid)
    if current is not None:  # a live process under that pid: ours, or another under a reused pid
        return start is not None and abs(current - start) > 0.05
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return True  # another user's process under a reused pid: ours, this user's, has ended
    except OSError:
        return False
    return False  # a zombie not reaped yet, or a platform that gives no start time
