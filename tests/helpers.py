"""Run a recipe in-process and collect its events."""

from __future__ import annotations

from pathlib import Path

from cnn_tui.contract.sinks import CallbackSink
from cnn_tui.engine.runner import RunOptions, RunResult, execute
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


def run_paused_from_the_start(recipe, out: Path, step_type: str, hold_seconds: float = 1.0) -> tuple[RunResult, list]:
    """Run with the control paused before the first step, in a thread: the loop must say it paused
    and take no `step_type` step (step 0, the starting point, aside) for `hold_seconds`, which is
    waited on an event, not guessed from timing; then it is resumed and must finish. A loop that
    ignores the pause fails at once: it ends without saying it paused, or steps within the hold."""
    import threading

    control = RunControl()
    control.pause()
    said_paused, stepped_while_paused, resumed = threading.Event(), threading.Event(), threading.Event()

    def watch(event) -> None:
        if event.type == "state" and event.state == "paused":
            said_paused.set()
        if event.type == step_type and event.step > 0 and not resumed.is_set():
            stepped_while_paused.set()

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["run"] = run_collect(recipe, out, control=control, on_event=watch)
        except BaseException as error:  # reported below, in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while thread.is_alive() and not said_paused.wait(0.05):
            pass  # until the loop says it paused, or ends without ever pausing
        assert said_paused.is_set(), "the run never paused"
        assert not stepped_while_paused.wait(hold_seconds), "a step was taken while paused"
    finally:
        resumed.set()
        control.resume()
        thread.join(120)
    assert "error" not in outcome, outcome.get("error")
    result, events = outcome["run"]
    assert [e.state for e in of_type(events, "state")] == ["paused", "running"]
    running = next(i for i, e in enumerate(events) if e.type == "state" and e.state == "running")
    assert all(e.step == 0 for e in events[:running] if e.type == step_type)  # every step after the resume
    return result, events
