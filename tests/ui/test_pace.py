"""The run screen's pace (ui/pace.py): while a run trains on the CPU, the curves and the status line
redraw less often, in proportion to the charts on screen; keys still redraw at once."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from cnn_tui.contract.events import RunFinished, Step
from cnn_tui.ui.pace import CPU_CURVE_SECONDS_MAX, CURVE_SECONDS, cpu_bound, curve_seconds, status_seconds
from cnn_tui.ui.sources import Replay
from tests.ui.conftest import make_app, recorded, wait_until


def test_only_a_run_training_on_the_cpu_is_paced_down():
    assert cpu_bound("running", "cpu")
    for status, device in [("running", "cuda"), ("running", "mps"), ("paused", "cpu"), ("waiting", "cpu"),
                           ("completed", "cpu"), ("running", None)]:
        assert not cpu_bound(status, device), (status, device)


def test_the_curves_pace_follows_the_charts_on_screen():
    assert curve_seconds(False, 4) == CURVE_SECONDS  # a GPU run, a paused one: as before
    assert curve_seconds(True, 0) == CURVE_SECONDS
    assert CURVE_SECONDS < curve_seconds(True, 1) < curve_seconds(True, 2) < curve_seconds(True, 4)
    assert curve_seconds(True, 4) == curve_seconds(True, 40) == CPU_CURVE_SECONDS_MAX
    assert status_seconds(True) > status_seconds(False)


class LiveReplay(Replay):
    """A recorded run that stays live after its events: the screen is still watching it train."""

    live = True

    async def events(self):
        for event in self._events:
            yield event
        await asyncio.Event().wait()


@pytest.mark.parametrize("device", ["cpu", "cuda"])
async def test_a_cpu_run_redraws_its_curves_less_often_and_a_key_at_once(device, monkeypatch):
    from cnn_tui.ui.widgets.chart import Chart

    events = [e for e in recorded() if not isinstance(e, RunFinished)]
    events[0] = dataclasses.replace(events[0], device=device)
    last_step = next(e for e in reversed(events) if isinstance(e, Step))
    drawn: list[str] = []
    draw = Chart.draw
    monkeypatch.setattr(Chart, "draw", lambda self, view: (drawn.append(self.id), draw(self, view)))
    app = make_app(LiveReplay(events))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.step == last_step.step and screen._charts, what="the curves")
        charts = screen._charts
        assert charts >= 4  # loss, accuracy, learning rate, gradients at 160x48
        pace = curve_seconds(device == "cpu", charts)

        def new_step_then_tick(seconds_since_curves: float) -> int:
            """A step arrives; the timer ticks that long after the last curves redraw: charts drawn."""
            screen.state.ingest(dataclasses.replace(last_step, step=screen.state.step + 1))
            screen._plots_at = screen._status_at = time.monotonic() - seconds_since_curves
            before = len(drawn)
            screen.refresh_if_changed()  # what the timer calls; nothing between it and the count
            return len(drawn) - before

        assert new_step_then_tick(CURVE_SECONDS + 0.1) == (0 if device == "cpu" else charts)
        assert new_step_then_tick(pace + 0.01) == charts
        assert screen.state.version == screen._drawn  # the status line drew each step meanwhile
        before = len(drawn)
        await pilot.press("x")  # a key that changes the curves (the x axis): drawn at once, whatever the pace
        await pilot.pause(0.05)
        assert len(drawn) - before >= charts
