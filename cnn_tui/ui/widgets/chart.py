"""A line plot that knows which chart of the run it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.line_plot import LinePlot, PlotData

ChartOf = Callable[[RunView, int], PlotData]  # (view, columns) -> the series to draw


class Chart(LinePlot, DrawsRun):
    paced: ClassVar[bool] = True
    when_shown: ClassVar[bool] = True

    def __init__(self, chart: ChartOf, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chart = chart

    def draw(self, view: RunView) -> None:
        self.set_data(self.chart(view, self.plot_columns))
