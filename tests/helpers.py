"""Run a recipe in-process and collect its events."""

from __future__ import annotations

from pathlib import Path

from cnn_tui.runner import RunOptions, RunResult, execute
from cnn_tui.sinks import CallbackSink
from cnn_tui.train.control import RunControl


def run_collect(recipe, out: Path, control: RunControl | None = None, on_event=None,
                **options) -> tuple[RunResult, list]:
    events: list = []

    def collect(event) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    result = execute(recipe, RunOptions(out=out, **options), CallbackSink(collect), control)
    return result, events


def of_type(events: list, kind: str) -> list:
    return [e for e in events if e.type == kind]


def stop_at(step: int, control: RunControl):
    """An on_event callback that asks the run to stop once a (style) step event reaches `step`."""

    def on_event(event) -> None:
        if event.type in ("step", "style_step") and event.step >= step:
            control.request_stop("test stop")

    return on_event
