"""The writing side of a live run: the lock, the heartbeat, and the commands other processes send.

`RunWriter.take(run_dir, apply)` is called by the process that writes the run (runner.execute, on
rank 0) before it writes anything. From then on one daemon thread, every POLL_S:

- carries out the commands in RUN_DIR/commands/ (record/control.py writes them), oldest first, by
  calling `apply(command, origin)` (the runner maps that onto RunControl, whose flags every rank of
  a data-parallel run agrees on at each step);
- every HEARTBEAT_S, and at once after any change, rewrites RUN_DIR/heartbeat.json: the writer's
  clock, what the run is doing (starting, running, paused, stopping, finished) and its step, and
  the acknowledgements of recent commands. Readers on another host judge the run by its age.

The writer is also an event sink in the run's fan-out: it *observes* what the loops do (a `state`
event when the loop has really paused, the steps, checkpoints, the finish), so an acknowledgement
says what happened ("paused at step 120"), not what was asked. The loops know nothing of it.

Why files and a poll, not a Unix socket: a socket path is limited to ~108 bytes (run folders are
often deeper), a socket does not cross hosts on a shared filesystem, and it needs cleaning after
a kill. A command file is written atomically by anyone who may write the folder, works wherever
the folder is visible, and costs one directory listing per 100 ms.

Commands are applied in the order of their names (send time, then sender): two opposite commands
sent at once are both carried out, in that order, and everyone reading heartbeat.json sees the one
resulting state. Commands left over from a writer that died are discarded when the next one starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnn_tui.contract.atomic import atomic_write
from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import (
    CheckpointSaved,
    EpochEnd,
    Event,
    RunFinished,
    Started,
    StateChanged,
    Step,
    StyleStep,
)
from cnn_tui.record.owner import COMMANDS, HEARTBEAT, release_lock, take_lock, this_process, write_owner
from cnn_tui.record.rundir import LAST_FILE

POLL_S = 0.1
HEARTBEAT_S = 1.0
KEPT_ACKS = 32
Apply = Callable[[str, str], None]  # (command, who sent it)


class RunWriter:
    """Holds a run folder for this process; see the module docstring."""

    def __init__(self, run_dir: Path, fd: int, apply: Apply) -> None:
        self.run_dir, self._fd, self._apply = run_dir, fd, apply
        self.owner = this_process()
        self.state = "starting"
        self.step = 0
        self.status: str | None = None
        self.checkpoint = ""  # the latest checkpoint saved, as acknowledgements name it
        self._acks: dict[str, dict[str, Any]] = {}
        self._pending: list[tuple[str, str]] = []  # (command id, command) waiting for the loop to act
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="run-writer", daemon=True)

    @classmethod
    def take(cls, run_dir: Path, apply: Apply) -> RunWriter:
        """Lock `run_dir` for this process (one line and exit 2 where another writer holds it)."""
        fd = take_lock(run_dir)
        writer = cls(run_dir, fd, apply)
        try:
            write_owner(run_dir, writer.owner)
            writer._discard_leftovers()
            writer._beat()
        except OSError as exc:
            release_lock(fd)
            raise UsageError(f"{exc.filename or run_dir}: cannot write the run folder ({exc.strerror})") from None
        except BaseException:
            release_lock(fd)
            raise
        writer._thread.start()
        return writer

    # ------------------------------------------------------------------ the sink side
    def emit(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, Started):
                self.state, self.step = "running", event.start_step
            elif isinstance(event, Step | StyleStep | EpochEnd | CheckpointSaved | StateChanged):
                self.step = max(self.step, event.step)
            if isinstance(event, StateChanged):
                self.state = event.state
                self._changed.set()
            elif isinstance(event, CheckpointSaved) and Path(event.path).name == LAST_FILE:  # not best.pt
                self.checkpoint = f"{_relative(event.path, self.run_dir)} (step {event.step})"
                self._resolve("checkpoint", f"checkpoint saved: {self.checkpoint}")
            elif isinstance(event, RunFinished):
                self.state, self.status, self.step = "finished", event.status, event.step
                self._resolve_all()
            if isinstance(event, StateChanged | RunFinished | Started):
                self._settle()
                self._changed.set()

    def close(self) -> None:
        """A sink's close (the fan-out's end): the folder stays held until `release`."""

    def release(self) -> None:
        """Stop the thread, write the last heartbeat and let go of the folder."""
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        with self._lock:
            if self.state != "finished":
                self.state = "exited"
            self._resolve_all()
        with contextlib.suppress(OSError):
            self._beat()
        release_lock(self._fd)

    # ------------------------------------------------------------------ the thread
    def _serve(self) -> None:
        last_beat = time.monotonic()
        while not self._closed.wait(POLL_S):
            try:
                self._take_commands()
                if self._changed.is_set() or time.monotonic() - last_beat >= HEARTBEAT_S:
                    self._changed.clear()
                    self._beat()
                    last_beat = time.monotonic()
            except OSError:
                pass  # a full disk or a vanished folder must not stop the training; the next beat tries again

    def _take_commands(self) -> None:
        folder = self.run_dir / COMMANDS
        try:
            names = sorted(p.name for p in os.scandir(folder) if p.name.endswith(".cmd"))
        except FileNotFoundError:
            return
        for name in names:
            path = folder / name
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                os.unlink(path)  # taken: no second writer thread carries it out again
            except FileNotFoundError:
                continue
            except (OSError, ValueError):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                continue
            self._carry_out(name.removesuffix(".cmd"), str(data.get("command", "")), str(data.get("origin", "")))

    def _carry_out(self, cid: str, command: str, origin: str) -> None:
        with self._lock:
            if self.state in ("finished", "exited"):
                self._ack(cid, f"the run has ended ({self.status or self.state}); {command} not done")
                return
            if self.state == "paused" and command == "checkpoint":
                self._ack(cid, f"paused at step {self.step}: the checkpoint is saved at the next step, when the "
                               "run resumes (a stop saves one now)")
            # a later command overtakes an earlier one the loop has not acted on yet
            for old_id, old in list(self._pending):
                if old in ("pause", "resume") and command in ("pause", "resume", "stop"):
                    self._pending.remove((old_id, old))
                    self._ack(old_id, f"{old} overtaken by a later {command} before the run acted on it")
            if command in ("pause", "resume", "stop") or (command == "checkpoint" and self.state != "paused"):
                self._pending.append((cid, command))
            self._apply(command, origin or "another process")
            if command == "stop":
                self.state = "stopping"  # what every reader shows until the loop has saved and finished
            self._settle()
            self._changed.set()

    def _settle(self) -> None:
        """Acknowledge the pending commands the run's state already satisfies (caller holds _lock)."""
        for cid, command in list(self._pending):
            line = None
            if command == "pause" and self.state == "paused":
                line = f"paused at step {self.step}"
            elif command == "resume" and self.state in ("running", "starting"):
                line = f"running at step {self.step}" if self.state == "running" else "starting (resumed)"
            if line is not None:
                self._pending.remove((cid, command))
                self._ack(cid, line)

    def _resolve(self, command: str, line: str) -> None:
        for cid, pending in list(self._pending):
            if pending == command:
                self._pending.remove((cid, pending))
                self._ack(cid, line)

    def _resolve_all(self) -> None:
        """The run ended: every command still waiting is answered with how (caller holds _lock)."""
        ended = f"{self.status or 'ended'} at step {self.step}"
        kept = f"; checkpoint {self.checkpoint}" if self.checkpoint else ""
        for cid, command in self._pending:
            self._ack(cid, f"stopped: {ended}{kept}" if command == "stop"
                      else f"the run ended ({ended}) before the {command} took effect")
        self._pending.clear()

    def _ack(self, cid: str, line: str) -> None:
        self._acks[cid] = {"line": line, "t": time.time()}
        while len(self._acks) > KEPT_ACKS:
            del self._acks[next(iter(self._acks))]

    def _beat(self) -> None:
        with self._lock:
            data = {"t": time.time(), "host": self.owner.host, "pid": self.owner.pid, "state": self.state,
                    "step": self.step, "status": self.status, "acks": dict(self._acks)}
        text = json.dumps(data) + "\n"
        atomic_write(self.run_dir / HEARTBEAT, lambda f: f.write(text), mode="w", fsync=False)

    def _discard_leftovers(self) -> None:
        """Commands (and half-written ones) sent to a writer that died are not carried out by this one."""
        folder = self.run_dir / COMMANDS  # made by the first sender (record/control.py)
        if not folder.is_dir():
            return
        for entry in os.scandir(folder):
            if entry.name.endswith((".cmd", ".tmp")):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _relative(path: str, run_dir: Path) -> str:
    try:
        return str(Path(path).relative_to(run_dir))
    except ValueError:
        return path
