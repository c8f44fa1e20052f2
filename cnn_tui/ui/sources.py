"""Where the dashboard's events come from. All three give the same Event objects:

- ChildRun: a `cnn-tui run ... --events - --control-stdin` child process. Training
  never shares the UI's interpreter (no GIL contention, a crash or OOM cannot take the
  app down); control commands go to its stdin.
- FollowRunDir: a run directory's events.jsonl, read from the start and followed while
  the run is live (a headless run started hours ago under nohup).
- Replay: a fixed list of events (tests, snapshots, finished runs).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from cnn_tui.events import Event, RunFinished, parse_line
from cnn_tui.rundir import EVENTS


class Replay:
    live = False

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = list(events)
        self.exit_message: str | None = None

    async def events(self) -> AsyncIterator[Event]:
        for event in self._events:
            yield event

    def send(self, command: str) -> None:
        pass

    async def close(self, detach: bool = False) -> None:
        pass


class FollowRunDir:
    """Tail events.jsonl; a torn last line waits for its newline instead of being lost.
    Following ends with the run, unless it was interrupted (`run --resume` appends to it)."""

    live = False
    poll_seconds = 0.25

    def __init__(self, run_dir: Path, follow: bool = True) -> None:
        self.run_dir = run_dir
        self.follow = follow
        self.exit_message: str | None = None
        self._closed = False

    async def events(self) -> AsyncIterator[Event]:
        path = self.run_dir / EVENTS
        while not path.exists():
            if not self.follow or self._closed:
                return
            await asyncio.sleep(self.poll_seconds)
        pending = ""
        finished = False
        with open(path, encoding="utf-8", errors="replace") as handle:
            while not self._closed:
                chunk = handle.read()
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split("\n")
                    for line in lines:
                        event = parse_line(line)
                        if event is not None:
                            # an interrupted run can be resumed into this file: keep following it
                            finished = isinstance(event, RunFinished) and event.status != "interrupted"
                            yield event
                    continue
                if finished or not self.follow:
                    return
                await asyncio.sleep(self.poll_seconds)

    def send(self, command: str) -> None:
        pass  # a followed run is controlled where it runs (signals), not from here

    async def close(self, detach: bool = False) -> None:
        self._closed = True


class ChildRun:
    """A headless run in a child process, its events on stdout, commands on stdin."""

    live = True
    stop_timeout = 15.0  # seconds to wait for a clean stop when the screen closes
    coalesce_seconds = 0.1  # read the event pipe at most 10 times a second while training

    def __init__(self, recipe: Path, out_dir: Path, extra_args: Iterable[str] = (),
                 detach_on_close: bool = False) -> None:
        self.recipe, self.out_dir, self.extra_args = recipe, out_dir, list(extra_args)
        # in a browser (textual serve) a closed tab must not stop the run: it is detached from the
        # start, so that even an app killed outright leaves it training; "stop" still stops it
        self.detach_on_close = detach_on_close
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self.exit_message: str | None = None
        self.saw_finish = False

    def command(self) -> list[str]:
        return [sys.executable, "-m", "cnn_tui", "run", str(self.recipe), "--out", str(self.out_dir),
                "--events", "-", "--control-stdin", "--quiet", *self.extra_args]

    async def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("TEXTUAL", None)
        self.proc = await asyncio.create_subprocess_exec(
            *self.command(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, limit=16 * 1024 * 1024,
            start_new_session=True,  # the terminal's signals are the app's, not the run's
        )
        if self.detach_on_close:
            self.send("detach")

    async def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())

    async def events(self) -> AsyncIterator[Event]:
        if self.proc is None:
            await self.start()
        assert self.proc is not None and self.proc.stdout is not None
        stderr_task = asyncio.create_task(self._drain_stderr())
        pending = b""
        while True:
            chunk = await self.proc.stdout.read(1 << 20)  # all that has arrived
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                event = parse_line(raw.decode("utf-8", "replace"))
                if event is not None:
                    self.saw_finish = self.saw_finish or isinstance(event, RunFinished)
                    yield event
            if not self.saw_finish:
                await asyncio.sleep(self.coalesce_seconds)  # let events pile up: fewer wake-ups
        code = await self.proc.wait()
        await asyncio.wait([stderr_task], timeout=2)
        if not self.saw_finish:
            tail = " | ".join(line for line in list(self.stderr_tail)[-6:] if line.strip())
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            self.exit_message = f"the training process {how} before finishing" + (f": {tail}" if tail else "")

    def send(self, command: str) -> None:
        if self.proc is None or self.proc.stdin is None or self.proc.returncode is not None:
            return
        try:
            self.proc.stdin.write((command + "\n").encode())
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            pass

    async def close(self, detach: bool | None = None) -> None:
        """Closing stdin stops the run cleanly, unless we detach first (it goes on headless).
        `detach` None: as this source was made (detached when the dashboard is in a browser)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        detach = self.detach_on_close if detach is None else detach
        if detach:
            self.send("detach")
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            pass
        if not detach:  # give it the moment it needs to finish the step and save
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=self.stop_timeout)
            except TimeoutError:
                pass
