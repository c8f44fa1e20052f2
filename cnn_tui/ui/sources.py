"""Where the dashboard's events come from. All three give the same Event objects:

- FollowRunDir: a run directory's events.jsonl, its whole history read at once and then followed
  while the run is live. A long run's backlog is read as `show` reads it (record.scan): every
  sparse event, its step and gradient events sampled (the curves are bucketed to a screen's width
  anyway) and its last 256 KB in full, so attaching to a million-step run takes a second or two, not
  a minute of replay. The run is controlled through its folder's control channel
  (cnn_tui.record.control), so any number of dashboards, and `cnn-tui pause|resume|stop`, can
  steer one run and all of them see the same state: it comes from the events, not from what
  one dashboard sent. A writer that dies without `finished` is seen as *lost* (record.liveness).
- ChildRun: a run this dashboard starts. `cnn-tui run` becomes a process of its own: its own
  session, stdin from /dev/null, its output in a log file, so closing or killing the dashboard,
  or losing the SSH connection, leaves it training. It says where its run directory is through
  `run --run-dir-file`; from then on it is followed like any other run.
- Replay: a fixed list of events (tests, snapshots, finished runs).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import Event, RunFinished, Started
from cnn_tui.contract.status import run_is_over
from cnn_tui.contract.wire_reader import EventReader
from cnn_tui.record.rundir import EVENTS
from cnn_tui.record.scan import FULL_READ_BYTES, scan_bytes
from cnn_tui.ui import scratch as scratch_folder

TAIL_BYTES = 256 << 10  # a long run's last 256 KB of events is read in full: its latest steps exactly
SEND_WAIT_SECONDS = 5.0  # how long a control command waits for the run to take it
FINISHED_EXIT_POLLS = 40  # closing as a finished run exits: wait this many 50 ms polls for it to go


class RunSource(Protocol):
    """What the run screen reads from where its events come from."""

    live: bool  # it can be sent commands (whether the run takes them is the run's to say)
    exit_message: str | None  # the writer ended without `finished`: why (set once events() ends)
    lost: str | None  # ... and it was not ours to see exit: liveness's line
    run_dir: Path | None  # the run's folder, once known
    out_dir: Path | None  # where a run being started will make its folder (its run id names it)

    def events(self) -> AsyncIterator[Event]: ...

    async def send(self, command: str) -> str:
        """pause, resume, stop or checkpoint; UsageError (one line) when it cannot be sent."""
        ...

    async def close(self, detach: bool = True) -> None: ...


class Replay:
    live = False

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = list(events)
        self.exit_message: str | None = None
        self.lost: str | None = None
        self.run_dir: Path | None = None
        self.out_dir: Path | None = None

    async def events(self) -> AsyncIterator[Event]:
        for event in self._events:
            yield event

    async def send(self, command: str) -> str:
        raise UsageError("a recorded run cannot be controlled")

    async def close(self, detach: bool = True) -> None:
        pass


class FollowRunDir:
    """Tail events.jsonl; a torn last line waits for its newline instead of being lost.
    Following ends with the run, unless it was interrupted (`run --resume` appends to it), or
    when its writer is gone without finishing (`lost`: the line that says so)."""

    live = True  # it can be sent commands; whether the run takes them is the run's to say
    poll_seconds = 0.25
    liveness_seconds = 1.0  # how often a quiet run's writer is checked for life
    chunk_bytes = 8 << 20  # what arrives while following is read in big chunks, not line by line
    max_dense = 4000  # a long run's backlog: its step and gradient events sampled to this many (record.scan)

    def __init__(self, run_dir: Path | None, follow: bool = True) -> None:
        self.run_dir = run_dir
        self.out_dir: Path | None = None
        self.follow = follow
        self.exit_message: str | None = None  # the writer ended without `finished`: why
        self.lost: str | None = None  # ... and it was not ours to see exit: liveness's line
        self.saw_finish = False
        self._finish_status: str | None = None
        self._closed = False
        self._checked_at = 0.0

    async def events(self) -> AsyncIterator[Event]:
        assert self.run_dir is not None
        path = self.run_dir / EVENTS
        while not path.exists():
            if not self.follow or self._closed:
                return
            await asyncio.sleep(self.poll_seconds)
        with open(path, "rb") as handle:
            pending = handle.read()  # the whole history at once, then what comes
            reader = EventReader()
            if len(pending) > FULL_READ_BYTES:  # a long run: its dense events sampled, as `show` reads them
                cut = pending.rfind(b"\n", 0, len(pending) - TAIL_BYTES) + 1
                scan = scan_bytes(pending[:cut], self.max_dense)
                reader, pending = scan.reader, pending[cut:]  # the latest steps are read in full
                for event in self._seen(scan.events):
                    yield event
            while not self._closed:
                *lines, pending = pending.split(b"\n")
                for event in self._seen(reader.parse_line(line.decode("utf-8", "replace")) for line in lines):
                    yield event
                chunk = handle.read(self.chunk_bytes)
                if chunk:
                    pending += chunk
                    continue
                if self._ended() or not self.follow:
                    return
                if self._writer_gone():
                    *lines, _torn = (pending + handle.read()).split(b"\n")  # what it wrote before it went
                    for event in self._seen(reader.parse_line(line.decode("utf-8", "replace")) for line in lines):
                        yield event
                    if not self.saw_finish:
                        self._report_gone()
                    return
                await asyncio.sleep(self.poll_seconds)

    def _seen(self, events: Iterable[Event | None]) -> Iterator[Event]:
        for event in events:
            if event is not None:
                if isinstance(event, RunFinished):
                    self.saw_finish, self._finish_status = True, event.status
                elif self.saw_finish and isinstance(event, Started) and event.resumed:
                    self.saw_finish = False  # `run --resume` goes on in the same file
                yield event

    def _ended(self) -> bool:
        """Finished for good: an interrupted run may be resumed into this file, so it is followed on."""
        return self.saw_finish and run_is_over(self._finish_status)

    def _writer_gone(self) -> bool:
        """Checked at most once a second while the file is quiet: is the process writing it gone?"""
        if self.saw_finish or time.monotonic() - self._checked_at < self.liveness_seconds:
            return False
        self._checked_at = time.monotonic()
        from cnn_tui.record.liveness import RunState, liveness

        assert self.run_dir is not None
        state = liveness(self.run_dir)
        if state.state == RunState.LOST:
            self.lost = state.describe()
            return True
        return False

    def _report_gone(self) -> None:
        """The writer went without `finished`: `lost` says so (liveness's line)."""

    async def send(self, command: str) -> str:
        """pause, resume, stop or checkpoint, through the run folder; UsageError (one line) when the
        run cannot take it (it has ended, it is not a run, it is not ours)."""
        if self.run_dir is None:
            raise UsageError("the run has not started yet")
        from cnn_tui.record.control import send_command

        return await asyncio.to_thread(send_command, self.run_dir, command, SEND_WAIT_SECONDS)

    async def close(self, detach: bool = True) -> None:
        """Stop following; `detach=False` also stops the run (quitting with --stop-on-exit, or 's')."""
        self._closed = True
        if not detach and not self.saw_finish and self.run_dir is not None:
            try:
                await self.send("stop")
            except UsageError:
                pass  # it has ended already


class ChildRun(FollowRunDir):
    """A run started by this dashboard, as a process of its own that outlives the dashboard."""

    stop_timeout = 15.0  # seconds to wait for a clean stop when the dashboard stops the run on quitting
    start_poll_seconds = 0.1

    def __init__(self, recipe: Path, out_dir: Path, extra_args: Iterable[str] = ()) -> None:
        super().__init__(None)
        self.recipe, self.extra_args = recipe, list(extra_args)
        self.out_dir = out_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.scratch: Path | None = None  # the run's output log and its run-dir note (ui/scratch.py)

    @property
    def note(self) -> Path:
        assert self.scratch is not None
        return self.scratch / scratch_folder.NOTE

    @property
    def log(self) -> Path:
        assert self.scratch is not None
        return self.scratch / scratch_folder.LOG

    def command(self) -> list[str]:
        return [sys.executable, "-m", "cnn_tui", "run", str(self.recipe), "--out", str(self.out_dir),
                "--run-dir-file", str(self.note), "--quiet", *self.extra_args]

    def start(self) -> None:
        """Its own session (the terminal's hangup and Ctrl+C are the dashboard's), no pipes to us:
        nothing ties it to the dashboard, which may go at any moment. Runs left training by an
        earlier dashboard took their scratch folders with nobody to remove them: those whose run is
        over go first."""
        scratch_folder.sweep()
        self.scratch = scratch_folder.make()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("TEXTUAL", None)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            scratch_folder.record_process(self.scratch, self.proc.pid)
        except OSError:
            pass  # a full disk: the folder is only not swept later, the run goes on
        from cnn_tui.ui.priority import for_training_child

        for_training_child(self.proc.pid)  # SCHED_BATCH: it keeps its cores, our key presses come first

    async def events(self) -> AsyncIterator[Event]:
        if self.proc is None:
            try:
                self.start()
            except OSError as exc:  # no temporary folder to write to, no interpreter to start
                self.exit_message = f"could not start the training process: {exc}"
                return
        assert self.proc is not None
        while self.run_dir is None:  # until it says where it writes, or ends first (a bad recipe)
            ended = self.proc.poll() is not None
            written = self.note.read_text(encoding="utf-8").strip() if self.note.is_file() else ""
            if written:
                self.run_dir = Path(written)
            elif ended:
                self._report_gone()
                self._clean_up()
                return
            elif self._closed:
                return
            else:
                await asyncio.sleep(self.start_poll_seconds)
        async for event in super().events():
            yield event
        for _ in range(50):  # it has finished: it exits once its files are closed
            if self.proc.poll() is not None:
                self._clean_up()
                return
            await asyncio.sleep(0.1)

    def _writer_gone(self) -> bool:
        """Our own child: its exit is known at once (and its exit code says how it went)."""
        return self.proc is not None and self.proc.poll() is not None

    def _report_gone(self) -> None:
        assert self.proc is not None
        code = self.proc.wait()
        tail = " | ".join(line for line in self._log_tail() if line.strip())
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self.exit_message = f"the training process {how} before finishing" + (f": {tail}" if tail else "")

    def _log_tail(self, count: int = 6) -> list[str]:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except (OSError, AssertionError):
            return []
        return [line.rstrip() for line in text.splitlines() if line.strip()][-count:]

    def _clean_up(self) -> None:
        """The run has ended: its scratch folder (log, note) goes. A run left training keeps it."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    async def send(self, command: str) -> str:
        if self.proc is not None and self.proc.poll() is not None:
            raise UsageError("the training process has ended")
        if self.run_dir is None and command == "stop" and self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)  # still starting: it stops as soon as it can, saving
            return "stopping"
        return await super().send(command)

    async def close(self, detach: bool = True) -> None:
        """Leave it training (the default), or stop it and give it the moment it needs to save. A run
        that has ended takes its scratch folder with it here too: closed as its run completed (a user
        quick on `q`, a harness), the dashboard left one folder per run in the temporary folder, since
        only the end of events() removed it."""
        self._closed = True
        if self.proc is None:
            return
        if not detach and self.proc.poll() is None:
            try:
                await self.send("stop")
            except UsageError:
                if self.proc.poll() is None:
                    self.proc.send_signal(signal.SIGTERM)  # the same clean stop, by signal
            deadline = time.monotonic() + self.stop_timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        for _ in range(FINISHED_EXIT_POLLS):  # it wrote `finished`: it exits once its files are closed
            if not self.saw_finish or self.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        if self.proc.poll() is not None:
            self._clean_up()
