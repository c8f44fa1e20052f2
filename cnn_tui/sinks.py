"""Event sinks: the engine emits to one sink; this fans out to the printer, files, pipes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO, Protocol

from cnn_tui.events import Event


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
