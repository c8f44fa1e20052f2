"""Timing a frame of a run screen, with the charts on the engines the dashboard picks or all on one
engine, interleaved frame by frame (side by side in one process: this machine is shared and noisy);
and each chart drawn by each engine from the data it shows."""

from __future__ import annotations

import time

MODES = ("chosen", "plotext", "braille")  # chosen: as the dashboard shares them out (ui/chart_engines.py)


def _forced(engine: str):
    from cnn_tui.ui.chart_engines import Choice

    return lambda charts, setting="auto": {name: Choice(engine, "forced") for name in charts}


async def frames(app, screen, pilot, count: int, modes: tuple[str, ...] = ("chosen",)) -> dict[str, list[float]]:
    """Seconds per frame, sorted, for each mode. A frame: fold the state into every pane, re-render the
    changed widgets, compose the whole screen and turn it into terminal output (a full repaint)."""
    from cnn_tui.ui.widgets import chart
    from cnn_tui.ui.widgets.picture_board import PictureBoard

    chosen = chart.choose_engines
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    try:
        for _ in range(count):
            for mode in modes:
                chart.choose_engines = chosen if mode == "chosen" else _forced(mode)
                screen.state.version += 1  # as if a new event came in
                for board in screen.query(PictureBoard):
                    board._fitted_for = None  # and new pictures: every board lays itself out again
                t0 = time.perf_counter()
                screen.redraw()
                screen._compositor.render_update(full=True).render_segments(app.console)
                times[mode].append(time.perf_counter() - t0)
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

    screen.state.version += 1
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
