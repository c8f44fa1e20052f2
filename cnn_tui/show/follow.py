"""`show --follow`: keep printing while a live run writes events.jsonl.

In a terminal the whole report is redrawn in place when the file grows (at most once a
`redraw_seconds`); in a pipe (CI logs) the report is printed once, then each new event
as the headless run itself would print it, then the final report when the run finishes.
A run that ends `interrupted` can be resumed into the same file, so following goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from cnn_tui.contract.events import Event, RunFinished
from cnn_tui.contract.status import run_is_over
from cnn_tui.contract.wire_reader import EventReader
from cnn_tui.headless.printer import HeadlessPrinter
from cnn_tui.record.history import RunHistory
from cnn_tui.record.liveness import RunState, liveness
from cnn_tui.record.rundir import EVENTS

CLEAR = "\x1b[H\x1b[2J"


def new_events(path: Path, offset: int, reader: EventReader, poll_seconds: float,
               keep_going: Callable[[], bool]) -> Iterator[Event]:
    """Complete lines appended after `offset`, as events; a torn line waits for its newline."""
    pending = b""
    with open(path, "rb") as handle:
        handle.seek(offset)
        while keep_going():
            chunk = handle.read()
            if not chunk:
                time.sleep(poll_seconds)
                continue
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                event = reader.parse_line(raw.decode("utf-8", "replace"))
                if event is not None:
                    yield event


LIVENESS_S = 1.0  # how often following asks whether the writer still lives


def ended(event: Event) -> bool:
    return isinstance(event, RunFinished) and run_is_over(event.status)


def follow(history: RunHistory, offset: int, reader: EventReader, out: IO[str], tty: bool,
           render: Callable[[RunHistory], str], poll_seconds: float = 0.5, redraw_seconds: float = 1.0) -> None:
    done = history.finished is not None and run_is_over(history.finished.status)
    out.write((CLEAR if tty else "") + render(history) + "\n")
    out.flush()
    if done:
        return
    printer = None if tty else HeadlessPrinter(out, tty=False)
    if printer is not None and history.first is not None:
        printer.started = history.first  # progress lines need the run's shape
        printer.header_printed = bool(history.epochs)
    state = {"done": False, "drawn": time.monotonic(), "dirty": False, "asked": time.monotonic()}

    def keep_going() -> bool:
        if time.monotonic() - state["asked"] >= LIVENESS_S:  # a writer that died will write no `finished`
            state["asked"] = time.monotonic()
            live = liveness(history.run_dir)
            if live.state is RunState.LOST and live.pid is not None:
                state["done"] = True
        if tty and state["dirty"] and time.monotonic() - state["drawn"] >= redraw_seconds:
            out.write(CLEAR + render(history) + "\n")
            out.flush()
            state.update(drawn=time.monotonic(), dirty=False)
        return not state["done"]

    for event in new_events(history.run_dir / EVENTS, offset, reader, poll_seconds, keep_going):
        history.add(event)
        state["dirty"] = True
        if printer is not None:
            printer.emit(event)
        if ended(event):
            state["done"] = True
    out.write((CLEAR if tty else "\n") + render(history) + "\n")
    out.flush()
