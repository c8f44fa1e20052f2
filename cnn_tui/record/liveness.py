"""Is a run alive? running, paused, finished or lost, from its folder alone, in well under a millisecond.

The dashboard asks this every second for every run it lists, so it reads only small files:
owner.json (who writes), heartbeat.json (what the writer says it is doing, rewritten every
second) and the last few KB of events.jsonl (whether the newest segment ended with `finished`).

- The writer alive (see below): what its heartbeat says: starting, running, paused (a stop
  that is under way shows as running until the loop has saved and finished).
- The writer gone: FINISHED with the status of the last `finished` event where the newest
  segment has one (a run that was interrupted and then resumed counts by its newest segment),
  LOST otherwise: the process died without finishing (SIGKILL, the OOM killer, a reboot).

A folder with no owner.json (written by an older cnn-tui) is judged by when events.jsonl last changed.

Alive, on this host: the recorded pid runs with the recorded start time (a reused pid has
another), and the folder's lock is held; both are exact and instant, so a SIGKILL shows at the
next look. On another host (the folder on a shared filesystem) local pids say nothing: the run
is alive while its heartbeat is younger than REMOTE_STALE_S (hosts' clocks assumed in step).
"""

from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cnn_tui.record.owner import HEARTBEAT, Owner, host_name, lock_held, process_alive, read_owner
from cnn_tui.record.rundir import EVENTS, RunDir

REMOTE_STALE_S = 10.0  # a writer on another host that has not beaten for this long is lost
NEW_FOLDER_S = 30.0  # a folder this young with no writer recorded yet is still starting
TAIL_BYTES = 16384  # the end of events.jsonl that is read: enough for the last few events


class RunState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    LOST = "lost"
    STARTING = "starting"  # the writer lives, but has not started training yet (data, resume)


@dataclass(frozen=True)
class Liveness:
    state: RunState
    status: str | None  # how a FINISHED run ended: completed, early_stopped, interrupted, diverged, failed
    host: str | None
    pid: int | None
    last_event_at: float | None  # unix time of the last event or heartbeat
    remote: bool  # the writer is on another host: judged by its heartbeat's age, not by local pids
    resume_command: str | None  # for a lost or interrupted run with a checkpoint to go on from
    step: int | None = None  # the step the writer last reported
    run_dir: Path | None = None
    heartbeat_at: float | None = None  # the writer's last heartbeat (a live local writer silent for long is frozen)

    @property
    def live(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.PAUSED, RunState.STARTING)

    def describe(self) -> str:
        """One plain line, e.g. 'lost: the writer (pid 123 on gpu1) is gone; last event 14:02:11; resume
        with: cnn-tui run --resume runs/x'."""
        where = f"pid {self.pid} on {self.host}" if self.pid is not None else "no writer recorded"
        last = f"last event {_clock(self.last_event_at)}" if self.last_event_at else "no events yet"
        at_step = f" at step {self.step}" if self.step else ""
        if self.state is RunState.FINISHED:
            text = f"finished: {self.status or 'ended'}{at_step}; {last}"
        elif self.state is RunState.LOST:
            gone = f"the writer ({where}) is gone" if self.pid is not None else "no live writer"
            if self.remote:
                gone = f"the writer ({where}) has not been heard from for {_ago(self.last_event_at)}"
            text = f"lost: {gone}; {last}"
        else:
            there = f" on {self.host} (pid {self.pid} there)" if self.remote else f" ({where})"
            text = f"{self.state.value}{at_step}{there}; {last}"
            if self.heartbeat_at is not None and time.time() - self.heartbeat_at > REMOTE_STALE_S:
                text += f"; no heartbeat for {_ago(self.heartbeat_at)}: the process is suspended (Ctrl+Z, SIGSTOP?)"
        if self.resume_command:
            text += f"; resume with: {self.resume_command}"
        elif self.state is RunState.LOST:
            text += "; no checkpoint to resume from (it died before saving one): start it again"
        return text


def liveness(run_dir: Path) -> Liveness:
    """The run's state now; never raises for a folder that is odd or half made (it is LOST or STARTING)."""
    owner = read_owner(run_dir)
    beat = _read_json(run_dir / HEARTBEAT)
    last_type, last_t, status, step = _last_event(run_dir / EVENTS)
    beat_t = _number(beat.get("t")) if beat else None
    seen = max((t for t in (last_t, beat_t) if t is not None), default=None)
    remote = owner is not None and owner.host != host_name()
    if owner is None:  # a run from before owners were recorded, or one whose writer is just starting
        if last_type == "finished":
            return _ended(run_dir, RunState.FINISHED, status, None, seen, False, step)
        if last_type is None and _age(run_dir) < NEW_FOLDER_S:
            return Liveness(RunState.STARTING, None, None, None, seen, False, None, step, run_dir)
        if last_type is not None and _age(run_dir / EVENTS) < REMOTE_STALE_S:  # someone writes it now
            return Liveness(RunState.RUNNING, None, None, None, seen, False, None, step, run_dir)
        return _ended(run_dir, RunState.LOST, None, None, seen, False, step)
    alive = _alive(run_dir, owner, beat_t, remote)
    beat_pid = beat.get("pid") if beat else None
    if alive and (beat is None or beat_pid == owner.pid):
        said = str(beat.get("state")) if beat else "starting"
        if said != "finished" and said != "exited":
            state = {"paused": RunState.PAUSED, "starting": RunState.STARTING}.get(said, RunState.RUNNING)
            beat_step = beat.get("step") if beat else None
            return Liveness(state, None, owner.host, owner.pid, seen, remote, None,
                            beat_step if isinstance(beat_step, int) else step, run_dir, beat_t)
    if last_type == "finished":
        return _ended(run_dir, RunState.FINISHED, status, owner, seen, remote, step)
    return _ended(run_dir, RunState.LOST, None, owner, seen, remote, step)


def _alive(run_dir: Path, owner: Owner, beat_t: float | None, remote: bool) -> bool:
    if remote:
        return beat_t is not None and time.time() - beat_t < REMOTE_STALE_S
    return process_alive(owner) and lock_held(run_dir)


def _ended(run_dir: Path, state: RunState, status: str | None, owner: Owner | None, seen: float | None,
           remote: bool, step: int | None) -> Liveness:
    resumable = (state is RunState.LOST or status == "interrupted") and \
        RunDir(run_dir).last.is_file()
    command = f"cnn-tui run --resume {shlex.quote(str(run_dir))}" if resumable else None
    return Liveness(state, status, owner.host if owner else None, owner.pid if owner else None, seen, remote,
                    command, step, run_dir)


def _last_event(path: Path) -> tuple[str | None, float | None, str | None, int | None]:
    """(type, time, finished status, step) of the last complete line of events.jsonl."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
    except OSError:
        return None, None, None, None
    step = None
    for line in reversed(tail.split(b"\n")[:-1]):  # the part after the last newline is torn or empty
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        kind = data.get("type")
        status = data.get("status") if kind == "finished" else None
        found = data.get("step") if isinstance(data.get("step"), int) else None
        step = found if step is None else step
        return (str(kind) if kind else None, _number(data.get("t")), status if isinstance(status, str) else None,
                step)
    return None, None, None, None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")


def _clock(t: float | None) -> str:
    if t is None:
        return "never"
    same_day = time.localtime(t)[:3] == time.localtime()[:3]
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", time.localtime(t))


def _ago(t: float | None) -> str:
    if t is None:
        return "ever"
    seconds = max(0, int(time.time() - t))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
