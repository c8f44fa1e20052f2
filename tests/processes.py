"""No process outlives the test that started it, pass or fail.

A test's processes are found two ways, because either alone misses some: the test process's
descendants (a `cnn-tui run` it started, its DataLoader workers, torchrun's ranks), and every
process created during the test whose environment carries the test's id (`TEST_ID`, set for each
test by the autouse fixture in tests/conftest.py and inherited by whatever it starts). The second
catches what left the family tree: a run whose parent exited first (reparented to init), or a
dashboard's run started in its own session (`start_new_session=True`) and detached.
"""

from __future__ import annotations

import gc
import os
import time
import warnings

import psutil

TEST_ID = "CNN_TUI_TEST_ID"


def started_by(test_id: str, since: float) -> list[psutil.Process]:
    """The live processes the test started: of those created since `since` (epoch seconds), the
    test process's descendants, those carrying the test's id, and their own descendants. One pass
    over the process table; environments are read only for the few processes that new."""
    me = os.getpid()
    new = {}
    for proc in psutil.process_iter(["ppid", "create_time"]):
        created = proc.info["create_time"]
        if proc.pid != me and created is not None and created >= since - 1:  # create times are in clock ticks
            new[proc.pid] = proc
    found: dict[int, psutil.Process] = {}

    def ours(pid: int) -> bool:  # a descendant of this process or of one found (parents are older)
        seen = set()
        while pid in new and pid not in seen:
            seen.add(pid)
            pid = new[pid].info["ppid"]
            if pid == me or pid in found:
                return True
        return False

    for pid in sorted(new, key=lambda p: new[p].info["create_time"]):  # parents before their children
        proc = new[pid]
        try:
            if ours(pid) or proc.environ().get(TEST_ID) == test_id:
                found[pid] = proc
        except (psutil.Error, OSError):
            continue  # gone, a zombie, or another user's
    return [proc for proc in found.values() if _alive(proc)]


def kill(procs: list[psutil.Process]) -> list[str]:
    """SIGKILL each (what was left running has nothing to save), wait until gone; their command lines."""
    killed = []
    for proc in procs:
        try:
            killed.append(f"{proc.pid}: {' '.join(proc.cmdline()[:6])}")
            proc.kill()
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=10)
    deadline = time.monotonic() + 5
    while any(_alive(proc) for proc in alive) and time.monotonic() < deadline:
        time.sleep(0.05)  # not our child: nothing to reap, just wait for it to vanish
    return killed


def last_pid() -> int | None:
    """The process id Linux handed out last (threads count too), or None where /proc does not say:
    when it has not moved, no process was started and the scan (some 20 ms) is skipped."""
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return int(handle.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def reap(test_id: str, since: float, pid_before: int | None, passed: bool) -> list[str]:
    """Kill what the test left running; a passing test that left something is warned about."""
    if pid_before is not None and last_pid() == pid_before:
        return []
    procs = started_by(test_id, since)
    if any(_parent(proc) == os.getpid() for proc in procs):
        # this process's own children: DataLoader workers of an iterator the test dropped end when it is
        # collected; killed first, torch's SIGCHLD handler would fail the next test in this process
        gc.collect()
        _, procs = psutil.wait_procs(procs, timeout=2)
    killed = kill(procs)
    if killed and passed:
        warnings.warn("the test left processes running (killed): " + "; ".join(killed), stacklevel=1)
    return killed


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _parent(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except psutil.Error:
        return None
