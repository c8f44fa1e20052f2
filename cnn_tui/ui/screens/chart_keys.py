"""The run screen's keys for reading a curve: they act on the current pane's chart (zoom, pan, the
value cursor, log y, robust y range) or on every chart (the x axis: steps, epochs, wall time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnn_tui.ui.reading import X_AXES
from cnn_tui.ui.widgets.chart import Chart


class ChartKeys:
    """Mixed into RunScreen (which declares the bindings): needs its panes, current pane and redraws."""

    panes: Any
    current: int
    x_axis: str
    if TYPE_CHECKING:  # RunScreen's (Textual's notify): declared for the type checker only, never shadowed

        def notify(self, *args: Any, **kwargs: Any) -> None: ...

        def invalidate(self) -> None: ...

    def _chart(self) -> Chart | None:
        charts = list(self.panes[self.current].query(Chart))
        if not charts:
            self.notify("This pane has no curve: tab to a chart first.", severity="warning", timeout=2)
        return charts[0] if charts else None

    def _reread(self, chart: Chart) -> None:
        chart.redraw_reading()

    def action_zoom(self, factor: float) -> None:
        if (chart := self._chart()) is not None:
            chart.reading.zoom(factor)
            self._reread(chart)

    def action_pan(self, shares: float) -> None:
        if (chart := self._chart()) is not None:
            chart.reading.pan(shares)
            self._reread(chart)

    def action_cursor(self) -> None:
        if (chart := self._chart()) is not None:
            chart.reading.cursor = None if chart.reading.cursor is not None else 1.0
            self._reread(chart)

    def action_move_cursor(self, delta: float) -> None:
        chart = next(iter(self.panes[self.current].query(Chart)), None)
        if chart is not None and chart.reading.cursor is not None:
            chart.reading.move_cursor(delta)
            self._reread(chart)

    def action_log_y(self) -> None:
        if (chart := self._chart()) is not None:
            chart.reading.log_y = not chart.data.log_y
            self._reread(chart)

    def action_robust_y(self) -> None:
        if (chart := self._chart()) is not None:
            chart.reading.robust = not chart.reading.robust
            self.notify("y range: 2nd to 98th percentile (a first spike no longer squashes the rest)"
                        if chart.reading.robust else "y range: every point", timeout=2)
            self._reread(chart)

    def action_x_axis(self) -> None:
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self.notify(f"x axis: {dict(step='steps', epoch='epochs', wall='wall time')[self.x_axis]}", timeout=2)
        self.invalidate()

