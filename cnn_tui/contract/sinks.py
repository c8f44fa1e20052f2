"""Event sinks: the engine emits to one sink; this fans out to the printer, files, pipes."""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from cnn_tui.contract.errors import WriteError, write_failed
from cnn_tui.contract.events import Event, Started
from cnn_tui.contract.writable import open_on_a_fresh_line


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...

    def close(self) -> None: ...


class FanOut:
    """Send each event to several sinks, in order."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = list(sinks)

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


class CallbackSink:
    """Call a function per event (tests, in-process consumers)."""

    def __init__(self, fn: Callable[[Event], None]) -> None:
        self.fn = fn

    def emit(self, event: Event) -> None:
        self.fn(event)

    def close(self) -> None:
        pass


class JsonLinesSink:
    """Append events as JSON lines to a stream, flushing after each so readers see them live.

    A reader that went away (a broken pipe: the dashboard closed) is ignored and training goes on.
    A write that fails (a full disk, a removed mount) raises WriteError once, naming the file and
    the cause: the loop ends the run as failed with that reason (exit 1), since a run whose record
    is being lost must not go on for hours. Later events are dropped quietly, so the run can still
    end (summary.json, the final line) without a cascade of the same error. A file deleted while
    being written (the run folder removed by hand) is the same loss, found within a second.
    """

    CHECK_SECONDS = 1.0  # how often a file's presence is checked (an fstat)

    def __init__(self, stream: IO[str], close_stream: bool = False, name: str | None = None) -> None:
        self.stream = stream
        self.close_stream = close_stream
        self.name = name or str(getattr(stream, "name", "the event stream"))
        self.lock = threading.Lock()
        self.failed: WriteError | None = None
        self._checked_at = time.monotonic()

    def emit(self, event: Event) -> None:
        line = event.to_json() + "\n"
        with self.lock:
            if self.failed is not None:
                return
            try:
                self.stream.write(line)
                self.stream.flush()
                self._check_still_there()
            except (BrokenPipeError, ValueError):
                pass  # the reader went away (dashboard closed); training carries on
            except OSError as exc:
                self.failed = write_failed(self.name, exc, "write events")
                self.close()  # now: a buffer left to flush would print "Exception ignored" at exit
                raise self.failed from None

    def _check_still_there(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            status = os.fstat(self.stream.fileno())
        except (OSError, ValueError, AttributeError):  # not a file (a StringIO in tests)
            return
        if stat.S_ISREG(status.st_mode) and status.st_nlink == 0:
            raise FileNotFoundError(errno.ENOENT, "deleted while the run was writing it")

    def close(self) -> None:
        if self.close_stream:
            try:
                self.stream.close()
            except OSError:
                pass  # its last flush failed: said already by emit, or nothing was left to write


def events_file(path: Path) -> JsonLinesSink:
    """`run --events PATH`: opened before any work, so a bad path is one line and exit 2."""
    if path.is_dir():
        raise WriteError(f"--events {path}: is a folder; give a file path (or '-' for stdout)")
    if not path.parent.is_dir():
        raise WriteError(f"--events {path}: the folder {path.parent} does not exist; create it first")
    try:
        return JsonLinesSink(open_on_a_fresh_line(path), close_stream=True, name=str(path))
    except OSError as exc:
        raise WriteError(f"--events {path}: cannot write there ({exc.strerror or exc})") from None


class RunDirNote:
    """`run --run-dir-file PATH`: the run directory's path, written to PATH when the run starts.

    The dashboard starts each run as a process of its own (it outlives the dashboard), so it
    learns where to follow the run from this note rather than from a pipe. Written once, atomically
    (a reader never sees half a path); a note that cannot be written is one line, not a failed run."""

    def __init__(self, path: Path, out: Path, resume: Path | None, say: Callable[[str], None]) -> None:
        self.path, self.out, self.resume, self.say = path, out, resume, say
        self.written = False

    def emit(self, event: Event) -> None:
        if self.written or not isinstance(event, Started):
            return
        self.written = True
        run_dir = self.resume if self.resume is not None else self.out / event.run_id
        if not run_dir.is_dir():  # a dry run has no run directory
            return
        from cnn_tui.contract.atomic import atomic_write_text

        try:
            atomic_write_text(self.path, f"{run_dir.resolve()}\n")
        except OSError as exc:
            self.say(f"cnn-tui: warning: --run-dir-file {self.path}: {exc.strerror or exc}")

    def close(self) -> None:
        pass
