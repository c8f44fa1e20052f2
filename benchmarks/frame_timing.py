"""Timing a frame of a run screen, with the charts on the engines the dashboard picks or all on one
engine, interleaved frame by frame (side by side in one process: this machine is shared and noisy);
and each chart drawn by each engine from the data it shows."""

from __future__ import annotations

import math
import time

MODES = ("chosen", "plotext", "braille")  # chosen: as the dashboard shares them out (ui/chart_engines.py)


def _forced(engine: str):
    from cnn_tui.ui.chart_engines import Choice

    return lambda charts, setting="auto": {name: Choice(engine, "forced") for name in charts}


def next_events(state) -> list:
    """A live run's next step: a step event and the layers' gradient norms, a little off the last ones,
    so that every curve on the page has new data (the worst frame a live run asks for)."""
    from cnn_tui.contract.events import Gradients, Step

    step = state.step + 1
    wiggle = 1.0 + 0.01 * math.sin(step)
    metrics = {name: series.last * wiggle for name, series in state.series.items()
               if (name.startswith("train/") or name == "lr") and series.last is not None}
    norms = {name: value * wiggle for name, value in state.grad_latest.items()}
    events: list = [Step(step=step, epoch=state.epoch, metrics=metrics)]
    if norms:
        events.append(Gradients(step=step, epoch=state.epoch, norms=norms,
                                update_ratios={name: 1e-3 for name in norms}))
    return events


async def frames(app, screen, pilot, count: int, modes: tuple[str, ...] = ("chosen",),
                 news: str = "step") -> dict[str, list[float]]:
    """Seconds per frame, sorted, for each mode. A frame: fold what came in into every pane, re-render
    the changed widgets, compose the whole screen and turn it into terminal output (a full repaint).

    news: "step", a live run's next step came in (every curve has new data); "key", a key that
    changes no data (tab: the screen redraws its panes, each as it was); "pictures", the inside
    page's boards are laid out anew (a new epoch's pictures) and a step came in."""
    from cnn_tui.ui.widgets import chart
    from cnn_tui.ui.widgets.picture_board import PictureBoard

    chosen = chart.choose_engines
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    picked = {c.id: c.engine for c in screen.query(chart.Chart)}  # what the dashboard gave each chart
    try:
        for _ in range(count):
            for mode in modes:
                chart.choose_engines = chosen if mode == "chosen" else _forced(mode)
                for each in screen.query(chart.Chart):  # the engine it keeps in this mode, as a dashboard would
                    each.engine = picked.get(each.id, each.engine) if mode == "chosen" else mode
                events = next_events(screen.state) if news in ("step", "pictures") else []
                if news == "pictures":
                    for board in screen.query(PictureBoard):
                        board._fitted_for = None  # every board lays itself out again
                t0 = time.perf_counter()
                for event in events:
                    screen.state.ingest(event)
                if news == "key" or len(modes) > 1:
                    screen.invalidate()  # as after a key, or the engines changed: every pane redraws
                screen.redraw()
                screen._compositor.render_update(full=True).render_segments(app.console)
                times[mode].append(time.perf_counter() - t0)
                if mode == "chosen":
                    picked = {c.id: c.engine for c in screen.query(chart.Chart)}
                await pilot.pause()  # let the app settle between frames, outside the timing
    finally:
        chart.choose_engines = chosen
    return {mode: sorted(spent) for mode, spent in times.items()}


def median_ms(spent: list[float]) -> float:
    return 1000 * spent[len(spent) // 2]


def charts_side_by_side(screen, reps: int = 7) -> dict[str, dict]:
    """Each chart shown on the page: its size, points, the engine the dashboard gave it (and why), and
    the ms each engine takes to draw it from the data it shows now (median of `reps`)."""
    from cnn_tui.ui.chart_engines import points
    from cnn_tui.ui.widgets.chart import Chart
    from cnn_tui.ui.widgets.line_plot import ENGINES

    screen.invalidate()
    screen.redraw()  # with the engines the dashboard picks
    out = {}
    for chart in screen.query(Chart):
        width, height = chart.size.width, chart.size.height
        if not chart.display or width == 0:
            continue
        row: dict = {"size": f"{width}x{height}", "points": points(chart.data), "engine": chart.engine_choice.engine,
                     "why": chart.engine_choice.why}
        for name, render in ENGINES.items():
            spent = []
            for _ in range(reps):
                t0 = time.perf_counter()
                render(chart.data, width, height)
                spent.append(time.perf_counter() - t0)
            row[name] = median_ms(sorted(spent))
        out[chart.id or "?"] = row
    return out
