"""Line plot widget drawn with braille dots, with axes, a legend and vertical markers.

Chosen over textual-plotext (which rebuilds a whole plotext figure per refresh, ~120 ms
for 2 x 5,000 points) and textual-plot: this draws only what fits (callers pass at most
two points per dot column), costs a few ms per frame, and renders identically everywhere,
which keeps snapshot tests stable. Log-scale y is a transform, not a rebuild.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

Y_LABEL_WIDTH = 8


@dataclass
class Line:
    label: str
    xs: list[float]
    ys: list[float]
    color: str
    legend: bool = True
    owner: int = 0  # whose curve: 0 the screen's run, k the k-th pinned one (its own epochs and clock)


@dataclass
class PlotData:
    lines: list[Line] = field(default_factory=list)
    log_y: bool = False
    y_min: float | None = None  # fixed bounds (e.g. accuracy 0..1); None: from the data
    y_max: float | None = None
    markers: list[tuple[float, str]] = field(default_factory=list)  # (x, label) e.g. phase changes
    empty_text: str = "waiting for data..."
    x_range: tuple[float, float] | None = None  # a zoomed window; None: the data's whole range
    cursor: tuple[float, str] | None = None  # (x, the values there): a line and a readout under the plot
    x_axis: str = "step"  # step, epoch or wall (seconds): how the x ticks are written


def format_tick(value: float, log: bool) -> str:
    if log:
        return f"1e{round(value):d}" if abs(value - round(value)) < 1e-9 else f"{10 ** value:.1e}"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 10_000 or magnitude < 1e-3:
        return f"{value:.1e}"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def format_step(value: float) -> str:
    return f"{value / 1e6:.1f}M" if value >= 1e6 else (f"{value / 1e3:.1f}k" if value >= 1e4 else f"{value:.0f}")


def format_x_tick(value: float, axis: str) -> str:
    if axis == "epoch":
        return f"{value:.1f}ep" if value < 100 else f"{value:.0f}ep"
    if axis == "wall":
        seconds = max(0, int(value))
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}" if seconds >= 3600 else \
            f"{seconds // 60}:{seconds % 60:02d}"
    return format_step(value)


class LinePlot(Widget):
    DEFAULT_CSS = "LinePlot { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data = PlotData()
        self._strips: list[Strip] = []
        self._built_for: tuple | None = None

    def set_data(self, data: PlotData) -> None:
        self.data = data
        self._built_for = None
        self.refresh()

    @property
    def plot_columns(self) -> int:
        """Cells available for the curves: callers reduce series to 2 points per cell."""
        return max(1, self.size.width - Y_LABEL_WIDTH)

    def render_line(self, y: int) -> Strip:
        """Strips straight from the canvas (no Rich Text to re-parse): a frame costs ~2x less."""
        width, height = self.size.width, self.size.height
        base = self.rich_style  # the widget's colours (background, text) under every piece
        if self._built_for != (width, height, base):
            self._built_for = (width, height, base)
            rows = (Strip([Segment(text, base + _style(style)) for text, style in runs])
                    for runs in render_plot(self.data, width, height))
            self._strips = [row.adjust_cell_length(width, base) for row in rows]
        return self._strips[y] if y < len(self._strips) else Strip.blank(width, base)


@lru_cache(maxsize=256)
def _style(name: str) -> Style:
    return Style.parse(name) if name else Style()


def _transform(values: list[float], log: bool) -> list[float]:
    if not log:
        return values
    return [math.log10(v) if v > 0 else math.nan for v in values]


Runs = list[tuple[str, str]]  # (text, style) pieces of one line


def render_plot(data: PlotData, width: int, height: int) -> list[Runs]:
    """The whole plot as lines of runs: y labels | braille canvas, an x-axis line, a legend."""
    plot_w, plot_h = width - Y_LABEL_WIDTH, height - 2
    lines = [ln for ln in data.lines if ln.xs]
    if plot_w < 4 or plot_h < 2 or not lines:
        return [[(data.empty_text if width > 0 else "", "dim")]]
    ys_all = [y for ln in lines for y in _transform(ln.ys, data.log_y) if math.isfinite(y)]
    xs_all = [x for ln in lines for x in ln.xs]
    if not ys_all:
        return [[(data.empty_text, "dim")]]
    lo = min(ys_all) if data.y_min is None else _transform([data.y_min], data.log_y)[0]
    hi = max(ys_all) if data.y_max is None else _transform([data.y_max], data.log_y)[0]
    if data.y_min is None and data.y_max is None:
        pad = (hi - lo) * 0.05 or (abs(hi) * 0.05 or 0.5)
        lo, hi = lo - pad, hi + pad
    elif hi <= lo:
        hi = lo + 1
    x_lo, x_hi = data.x_range or (min(xs_all), max(xs_all))
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    from cnn_tui.ui.widgets.canvas import BrailleCanvas

    canvas = BrailleCanvas(plot_w, plot_h)
    sx = (canvas.dot_w - 1) / (x_hi - x_lo)
    sy = (canvas.dot_h - 1) / (hi - lo)
    for x, _label in data.markers:
        if x_lo <= x <= x_hi:
            canvas.vline(round((x - x_lo) * sx), "bright_black")
    if data.cursor is not None and x_lo <= data.cursor[0] <= x_hi:
        canvas.vline(round((data.cursor[0] - x_lo) * sx), "bright_white")
    for ln in lines:
        prev = None
        for x, y in zip(ln.xs, _transform(ln.ys, data.log_y)):
            if not math.isfinite(y):
                prev = None
                continue
            px = round((min(max(x, x_lo), x_hi) - x_lo) * sx)  # a zoomed window's neighbours sit on its edges
            py = round((hi - min(max(y, lo), hi)) * sy)
            if prev is None:
                canvas.dot(px, py, ln.color)
            else:
                canvas.line(prev[0], prev[1], px, py, ln.color)
            prev = (px, py)
    out: list[Runs] = []
    label_rows = {0: hi, plot_h - 1: lo}
    if plot_h >= 5:
        label_rows[(plot_h - 1) // 2] = (hi + lo) / 2
    for row, runs in enumerate(canvas.rows()):
        label = format_tick(label_rows[row], data.log_y) if row in label_rows else ""
        if len(label) > Y_LABEL_WIDTH - 1:
            label = f"{label_rows[row]:.0e}" if not data.log_y else label[: Y_LABEL_WIDTH - 1]
        out.append([(f"{label[: Y_LABEL_WIDTH - 1]:>{Y_LABEL_WIDTH - 1}}│", "dim")]
                   + [(chunk, color or "") for chunk, color in runs])
    left, right = format_x_tick(x_lo, data.x_axis), format_x_tick(x_hi, data.x_axis)
    axis = left + " " * max(1, plot_w - len(left) - len(right)) + right
    out.append([(" " * (Y_LABEL_WIDTH - 1) + "└", "dim"), (axis[:plot_w], "dim")])
    legend: Runs = [(" " * Y_LABEL_WIDTH, "")]
    if data.cursor is not None:  # the values at the cursor take the legend's row
        legend.append(("│ " + data.cursor[1], "bright_white"))
    else:
        for ln in lines:
            if ln.legend:
                legend += [("━ ", ln.color), (ln.label + "  ", "")]
    out.append(legend)
    return out
