"""Who writes a run folder: the lock, the owner record and the files of the live-run protocol.

One writer per run folder. The writing process (rank 0 of a data-parallel run) takes an
exclusive `flock` on RUN_DIR/.lock before it writes anything, and holds it until it exits:

- the kernel releases a flock when its process dies, however it dies (SIGKILL, the OOM killer),
  so a lock file left behind by a killed run never blocks a resume: the file is only a name, and
  nothing has to "clean" it;
- flock works on local filesystems and, on Linux, over NFS (emulated with POSIX locks there);
- unlike POSIX record locks, a flock is not dropped when the same process closes another
  descriptor of the file, so a reader in the writing process (a test, the dashboard's own child)
  cannot release it by looking.

A flock *is* inherited by forked children (DataLoader workers), which may outlive a SIGKILLed
parent by a few seconds. So a reader does not take "the lock is held" as "the writer lives": it
checks the recorded writer process itself, by pid *and* start time (a pid is reused; a pid with
the same start time is the same process). The lock stays the guard against a second writer.

owner.json records that process (host, pid, start time, user) for readers and for the one line
that refuses a second writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cnn_tui.contract.atomic import atomic_write_text
from cnn_tui.contract.errors import UsageError

LOCK = ".lock"
OWNER = "owner.json"
HEARTBEAT = "heartbeat.json"  # the writer's live state, rewritten every HEARTBEAT_S (see record/writer.py)
COMMANDS = "commands"  # RUN_DIR/commands/*.cmd: commands waiting for the writer (see record/control.py)
ORPHAN_WAIT_S = 10.0  # a dead writer's forked workers still holding its lock: how long a new writer waits


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    pid_start: float | None  # the process's start time (seconds since the epoch), None where unknown
    user: str
    uid: int
    started_at: float  # when it took the folder

    @property
    def local(self) -> bool:
        return self.host == host_name()

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at))

    def names(self) -> str:
        """'pid 123 on host, started 2026-12-06 14:02:11'."""
        return f"pid {self.pid} on {self.host}, started {self.when()}"


def host_name() -> str:
    return socket.gethostname()


def process_start(pid: int) -> float | None:
    """A process's start time, seconds since the epoch (None: no such process, a zombie, or unknown).

    On Linux read straight from /proc (~20 us: liveness() is called every second per listed run),
    computed as psutil computes it, so either reader gives the same number; psutil elsewhere. A
    zombie (killed, not yet reaped by its parent) counts as gone: it writes nothing any more."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        if fields[0] in (b"Z", b"X"):
            return None
        return round(_boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK"), 2)
    except FileNotFoundError:
        return None if os.path.isdir("/proc/self") else _psutil_start(pid)
    except (OSError, ValueError, IndexError):
        return _psutil_start(pid)


@functools.cache
def _boot_time() -> float:
    with open("/proc/stat", "rb") as handle:
        for line in handle:
            if line.startswith(b"btime"):
                return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


def _psutil_start(pid: int) -> float | None:
    try:
        import psutil

        return round(float(psutil.Process(pid).create_time()), 2)
    except Exception:  # NoSuchProcess, AccessDenied, or no psutil
        return None


def user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (a container with an unnamed uid)
        return str(os.getuid())


def this_process() -> Owner:
    return Owner(host_name(), os.getpid(), process_start(os.getpid()), user_name(), os.getuid(), time.time())


def read_owner(run_dir: Path) -> Owner | None:
    try:
        data: dict[str, Any] = json.loads((run_dir / OWNER).read_text(encoding="utf-8"))
        return Owner(host=str(data["host"]), pid=int(data["pid"]),
                     pid_start=None if data.get("pid_start") is None else float(data["pid_start"]),
                     user=str(data.get("user", "")), uid=int(data.get("uid", -1)),
                     started_at=float(data.get("started_at", 0.0)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def process_alive(owner: Owner) -> bool:
    """Whether the recorded local writer process still runs: same pid *and* same start time."""
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    started = process_start(owner.pid)
    if started is None:  # a zombie, or a system that cannot say: alive only if nothing says otherwise
        return not os.path.isdir("/proc/self") and owner.pid_start is None
    return owner.pid_start is None or abs(started - owner.pid_start) < 1.0


def lock_held(run_dir: Path) -> bool:
    """Whether some process holds the folder's writer lock (a shared, non-blocking probe, let go at once)."""
    try:
        fd = os.open(run_dir / LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own shared lock
    return False


def take_lock(run_dir: Path) -> int:
    """The folder's writer lock, held by the returned descriptor until it is closed (or the process dies).

    Refused with one line naming the live writer. Where the recorded writer is gone but the lock
    is still held (its forked workers are exiting), waits up to ORPHAN_WAIT_S for them."""
    try:
        fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UsageError(f"{run_dir / LOCK}: cannot lock the run folder ({exc.strerror}); "
                         "a run is written by a user who may write its folder") from None
    deadline = time.monotonic() + ORPHAN_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            owner = read_owner(run_dir)
            orphans = owner is not None and owner.local and not process_alive(owner)
            if orphans and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            os.close(fd)
            raise UsageError(_refusal(run_dir, owner, orphans)) from None
        except OSError as exc:
            os.close(fd)
            raise UsageError(f"{run_dir / LOCK}: cannot lock the run folder ({exc.strerror})") from None


def _refusal(run_dir: Path, owner: Owner | None, orphans: bool) -> str:
    if owner is None:
        who = "another process"
    elif orphans:
        who = f"the child processes of a writer that died ({owner.names()}); they did not exit in time"
    else:
        who = f"{owner.names()}, user {owner.user}"
    return (f"{run_dir}: the run is being written by {who}; one process writes a run folder at a time "
            f"(pause or stop it with `cnn-tui pause|stop {run_dir}`)")


def write_owner(run_dir: Path, owner: Owner) -> None:
    atomic_write_text(run_dir / OWNER, json.dumps(asdict(owner), indent=1) + "\n")


def release_lock(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        os.close(fd)
