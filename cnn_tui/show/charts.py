"""Line charts as text, drawn by plotext: colours in a terminal, plain characters in a pipe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotext as plt

MIN_HEIGHT = 8  # rows: below this a chart has no room for its ticks
GLYPH = {"hd": "▄▀", "dot": "•", "braille": "⣿"}  # how each marker looks, for the title's key
LOG_RANGE = 30.0  # a positive series spanning more than this factor is drawn on a log y axis


@dataclass(frozen=True)
class Line:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    marker: str = "hd"  # plotext's half-block marker; "dot" for sparse series (one point an epoch)


def wants_log_y(lines: Sequence[Line]) -> bool:
    """Losses that fall by orders of magnitude read better on a log axis. A negative value rules it
    out; zeros (a style transfer's content loss at step 0) are left off the log chart."""
    ys = [y for line in lines for y in line.ys]
    positive = [y for y in ys if y > 0]
    return bool(positive) and min(ys) >= 0 and max(positive) / min(positive) > LOG_RANGE


def _positive(line: Line) -> Line:
    kept = [(x, y) for x, y in zip(line.xs, line.ys) if y > 0]
    return Line(line.label, [x for x, _ in kept], [y for _, y in kept], line.marker)


def chart(title: str, lines: Sequence[Line], width: int, height: int, color: bool,
          x_label: str = "step", log_y: bool | None = None) -> str:
    """One chart, `width` x `height` cells; empty lines are skipped, no lines at all give ''."""
    drawn = [line for line in lines if line.xs]
    if not drawn:
        return ""
    log = wants_log_y(drawn) if log_y is None else log_y
    if log:
        drawn = [line for line in map(_positive, drawn) if line.xs]
    figure = plt.figure  # plotext's one master figure: reset for each chart
    figure.clear()
    figure.plot_size(width, max(height, MIN_HEIGHT))
    figure.theme("default" if color else "colorless")
    for line in drawn:
        figure.draw(figure.signal(list(line.xs), list(line.ys), marker=line.marker).label(line.label).lines())
    figure.legend(active=False)  # plotext's boxed legend would hide the curve's corner: the title names them
    if log:
        figure.ruler("y").scale("log")
    names = ", ".join(f"{line.label} {GLYPH.get(line.marker, line.marker)}" for line in drawn) if len(drawn) > 1 else ""
    figure.title(title + (f": {names}" if names else "") + (" (log scale)" if log else ""))
    figure.label(x_label, "x")
    return str(figure.build().string(colorless=not color)).rstrip("\n")
