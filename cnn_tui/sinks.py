"""Event sinks: the engine emits to one sink; this fans out to the printer, files, pipes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from cnn_tui.events import Event, Started


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
    """Append events as JSON lines to a stream, flushing after each so readers see them live."""

    def __init__(self, stream: IO[str], close_stream: bool = False) -> None:
        self.stream = stream
        self.close_stream = close_stream
        self.lock = threading.Lock()

    def emit(self, event: Event) -> None:
        line = event.to_json() + "\n"
        with self.lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader went away (dashboard closed); training carries on

    def close(self) -> None:
        if self.close_stream:
            self.stream.close()


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
        from cnn_tui.atomic import atomic_write_text

        try:
            atomic_write_text(self.path, f"{run_dir.resolve()}\n")
        except OSError as exc:
            self.say(f"cnn-tui: warning: --run-dir-file {self.path}: {exc.strerror or exc}")

    def close(self) -> None:
        pass
