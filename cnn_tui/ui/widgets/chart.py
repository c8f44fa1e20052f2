"""A line plot that knows which chart of the run it shows, and how the user reads it (zoom, value
cursor, log y, robust y range: ui/reading.py); the mouse wheel zooms around the pointer."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import events

from cnn_tui.ui.chart_engines import Choice, choose_engines, engine_setting, points
from cnn_tui.ui.plot_data import Y_LABEL_WIDTH, PlotData
from cnn_tui.ui.reading import Reading, apply, x_mapping
from cnn_tui.ui.state import WALL, RunState
from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.line_plot import LinePlot

ChartOf = Callable[[RunView, int], PlotData]  # (view, columns) -> the series to draw
MAX_COLUMNS_ASKED = 2000  # a zoomed chart asks for more points, up to what the buckets hold
WHEEL_ZOOM = 0.8  # one wheel notch: the window shrinks (or grows) by this factor


def run_mapping(state: RunState, axis: str):
    steps_per_epoch = getattr(state.started, "steps_per_epoch", 0) if state.started is not None else 0
    return x_mapping(axis, steps_per_epoch, state.series.get(WALL))


class Chart(LinePlot, DrawsRun):
    paced: ClassVar[bool] = True
    when_shown: ClassVar[bool] = True

    def __init__(self, chart: ChartOf, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chart = chart
        self.reading = Reading()
        self.engine_choice = Choice(self.engine, "not drawn yet")
        self._view: RunView | None = None

    def draw(self, view: RunView) -> None:
        self._view = view
        lo, hi = self.reading.window
        columns = min(MAX_COLUMNS_ASKED, round(self.plot_columns / max(hi - lo, 1e-6)))
        mappings = [run_mapping(s, view.x_axis) for s in (view.state, *(p.state for p in view.pinned))]
        self.set_data(apply(self.chart(view, columns), self.reading, view.x_axis,
                            mappings if view.x_axis != "step" else None))

    def redraw_reading(self) -> None:
        if self._view is not None:
            self.draw(self._view)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event.x, WHEEL_ZOOM)
        event.stop()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event.x, 1 / WHEEL_ZOOM)
        event.stop()

    def _wheel(self, x: int, factor: float) -> None:
        around = min(1.0, max(0.0, (x - Y_LABEL_WIDTH) / max(1, self.plot_columns)))
        self.reading.zoom(factor, around)
        self.redraw_reading()


def share_plotext(charts: list[Chart]) -> None:
    """The charts just drawn for one frame get their engines (ui/chart_engines.py: plotext while the
    frame's budget of points lasts)."""
    if not charts:
        return
    counts = {str(i): points(chart.data) for i, chart in enumerate(charts)}
    choices: dict[str, Choice] = choose_engines(counts, setting=engine_setting())
    for i, chart in enumerate(charts):
        chart.engine_choice = choices[str(i)]
        if chart.engine != chart.engine_choice.engine:
            chart.engine = chart.engine_choice.engine
            chart.refresh()  # the same data on the other engine
