"""Where a data-parallel run's ranks write: rank 0 to the terminal and the run directory as a
single process does; every other rank's stdout and stderr to `logs/rank-K.log` in the run
directory (held in a file until rank 0 has created the directory: in the launcher's scratch
folder, which the launcher reads if the run fails before that and removes when it ends).

Rank 0 also tells the launcher where the run directory is (a file in that scratch folder), so
that the launcher can record a rank that died.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

LOGS = "logs"
SCRATCH_ENV = "CNN_TUI_LAUNCH_SCRATCH"  # the launcher's scratch folder
RUN_DIR_NOTE = "run_dir"
_held: Path | None = None  # this rank's output before the run directory exists


def log_path(run_dir: Path, rank: int) -> Path:
    return run_dir / LOGS / f"rank-{rank}.log"


def held_path(scratch: Path, rank: int) -> Path:
    return scratch / f"rank-{rank}.log"


def hold_output(rank: int) -> None:
    """A rank other than 0 writes nothing to the shared terminal: from the start, into a held file."""
    global _held
    scratch = os.environ.get(SCRATCH_ENV)
    if scratch and Path(scratch).is_dir():
        _held = held_path(Path(scratch), rank)
        fd = os.open(_held, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    else:  # started by torchrun directly: a temporary file, gone at exit
        fd, name = tempfile.mkstemp(prefix=f"cnn-tui-rank-{rank}-", suffix=".log")
        _held = Path(name)
        atexit.register(_held.unlink, missing_ok=True)
    _redirect(fd)


def settle(run_dir: Path | None, rank: int) -> None:
    """Once the run directory is known: the held output moves into logs/rank-K.log, and so does the rest."""
    global _held
    if rank == 0 or run_dir is None or _held is None:
        return
    target = log_path(run_dir, rank)
    target.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(_held, "rb") as held, open(target, "ab") as log:
        shutil.copyfileobj(held, log)
    _redirect(os.open(target, os.O_WRONLY | os.O_APPEND))
    _held.unlink(missing_ok=True)
    _held = None


def release() -> None:
    """A held file nobody will read (no run directory came to be, torchrun started us directly)."""
    global _held
    if _held is not None and not os.environ.get(SCRATCH_ENV):
        _held.unlink(missing_ok=True)
        _held = None


def _redirect(fd: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def tell_launcher(run_dir: Path) -> None:
    scratch = os.environ.get(SCRATCH_ENV)
    if scratch and Path(scratch).is_dir():
        (Path(scratch) / RUN_DIR_NOTE).write_text(str(run_dir.resolve()), encoding="utf-8")


def last_lines(path: Path, count: int = 20) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-count:]
