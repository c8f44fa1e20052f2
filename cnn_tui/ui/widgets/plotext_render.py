"""plotext as a chart engine: the chart is built by plotext (axes, ticks, braille curves, vertical
markers) and its ANSI output turned into (text, style) runs, so the widget paints it like any other.

Each curve gets a tag colour (a 256-colour index) that stands for its style; the runs map the tags
back to the dashboard's own style names, so themes, dim pinned runs and NO_COLOR work as elsewhere.
Ticks are ours (round values, 1.2k steps, 3.5ep, 1:05): plotext would write 1000000.0.
"""

from __future__ import annotations

import math
import re

import plotext as plt

try:  # plotext's internals, for _signal: a release that moves them gets its own signal() path
    from plotext._correct import marker as plotext_marker
    from plotext._kernel.clink import clink
    from plotext._signal.signal import signal_class
except ImportError:  # pragma: no cover - plotext 6.1's layout is what the tests run
    clink = None

from cnn_tui.ui.plot_data import (
    Y_LABEL_WIDTH,
    PlotData,
    Runs,
    bounds,
    empty,
    legend_row,
    x_marks,
    y_marks,
)

AXES_TAG = 255  # the frame and ticks, drawn dim
THEME = "cnn-tui-tags"
plt.add_theme(THEME, text=AXES_TAG)
ESCAPE = re.compile(r"\x1b\[([0-9;]*)m")


def render_plotext(data: PlotData, width: int, height: int) -> list[Runs]:
    """The chart as lines of runs: plotext's frame and curves (height - 1 rows), then the legend row."""
    box = bounds(data) if width - Y_LABEL_WIDTH >= 6 and height >= 5 else None
    if box is None:
        return empty(data, width)
    styles: dict[int, str] = {AXES_TAG: "dim"}

    def tag(style: str) -> plt.pixel:
        code = next((k for k, s in styles.items() if s == style), None)
        if code is None:
            code = len(styles)  # 1, 2, ...: tags are indices, never shown
            styles[code] = style
        return plt.pixel(foreground=code)

    figure = plt.figure  # plotext's one master figure, reset for every chart
    figure.clear()
    plt.terminal.limit(False, False)  # the widget's size, not the terminal's (a headless app has none)
    figure.plot_size(width, height - 1)
    figure.theme(THEME)
    figure.axes(False, axis=0, side=1).axes(False, axis=1, side=1)  # an open frame: the curves get the room
    for x, _label in data.markers:
        if box.x_lo <= x <= box.x_hi:
            figure.line(x, orientation=1, pixel=tag("bright_black"))
    if data.cursor is not None and box.x_lo <= data.cursor[0] <= box.x_hi:
        figure.line(data.cursor[0], orientation=1, pixel=tag("bright_white"))
    for line, drawn in zip(box.lines, box.drawn_ys):
        dots = plt.marker("braille", tag(line.color))
        for xs, ys in _finite_pieces(line.xs, drawn):
            _register(figure, _signal(figure, xs, ys, dots))
    x_ruler, y_ruler = figure.ruler("x"), figure.ruler("y")
    x_ruler.lim(box.x_lo, box.x_hi)
    y_ruler.lim(box.y_lo, box.y_hi)
    xs = x_marks(box, width - Y_LABEL_WIDTH, data.x_axis)
    x_ruler.ticks([x for x, _ in xs], [label for _, label in xs])
    ys = y_marks(box, data.log_y, height - 3)  # under the canvas: the x axis, its labels, the legend
    y_ruler.ticks([y for y, _ in ys], [label for _, label in ys])  # Y_LABEL_WIDTH - 1 wide: the curves start there
    rows = [_runs(row, styles) for row in figure.build().string().rstrip("\n").split("\n")]
    return rows + [legend_row(data, box.lines)]


def _signal(figure, xs: list[float], ys: list[float], dots: plt.marker):
    """figure.signal(xs, ys, marker=dots).lines(), a point at a time straight into plotext's kernel:
    signal() copies the marker for every point in Python (its kernel copies it again when a point
    is added), then lines() walks the points once more: up to a third of a chart's time. The
    marker is fixed as signal() fixes it, once. Falls back to signal() should a plotext release
    rename what this uses (tests compare both paths' output)."""
    append = getattr(clink, "signal_append_point", None)
    connect = getattr(clink, "signal_set_connected", None)
    if append is None or connect is None or not hasattr(plotext_marker, "marker"):
        return figure.signal(xs, ys, marker=dots).lines()
    marker = plotext_marker.marker(dots, figure._next_marker())
    signal = signal_class(len(xs))
    at, dot = signal._pointer, marker._pointer
    for i, (x, y) in enumerate(zip(xs, ys)):
        append(at, x, y, dot)
        connect(at, i, True)
    return signal._set_marker(marker)._set_xside(0)._set_yside(0)


def _register(figure, signal) -> None:
    """figure.draw(signal) without its walk over every point to take the signal's colours out of the
    theme's cycle (we colour each curve ourselves): half of plotext's time for a chart. Falls back to
    draw() should a plotext release move the list it keeps (tests compare both paths' output)."""
    signals = getattr(figure, "_signals", None)
    if signals is not None and hasattr(signals, "_add"):
        signals._add(signal)
    else:
        figure.draw(signal)


def _finite_pieces(xs: list[float], ys: list[float]):
    """A curve split where it is not finite (a NaN loss, a non-positive value on a log axis): gaps."""
    start = 0
    for i, y in enumerate([*ys, math.nan]):
        if not math.isfinite(y):
            if i > start:
                yield xs[start:i], ys[start:i]
            start = i + 1


def _runs(row: str, styles: dict[int, str]) -> Runs:
    """One line of plotext's ANSI output as runs, its tag colours read back as styles."""
    runs: Runs = []
    style, at = "", 0
    for escape in ESCAPE.finditer(row):
        if escape.start() > at:
            runs.append((row[at:escape.start()], style))
        at = escape.end()
        code = escape.group(1)
        if code.startswith("38;5;"):
            style = styles.get(int(code[5:]), "")
        elif code in ("0", ""):
            style = ""
    if at < len(row):
        runs.append((row[at:], style))
    return runs
