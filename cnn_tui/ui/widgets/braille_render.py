"""The hand-written chart engine: braille dots on our own canvas, two labelled ends on the x axis.

Kept where plotext cannot hold the frame budget (benchmarks/cases/rendering.py measures both, pane by
pane): it draws only what fits, in a handful of numpy operations a curve (widgets/canvas.py), and
no Python object per point.
"""

from __future__ import annotations

import numpy as np

from cnn_tui.ui.plot_data import (
    Y_LABEL_WIDTH,
    Bounds,
    PlotData,
    Runs,
    bounds,
    empty,
    legend_row,
    x_marks,
    y_marks,
)
from cnn_tui.ui.widgets.canvas import BrailleCanvas


def render_braille(data: PlotData, width: int, height: int) -> list[Runs]:
    """The whole plot as lines of runs: y labels | braille canvas, an x-axis line, a legend."""
    plot_w, plot_h = width - Y_LABEL_WIDTH, height - 3  # under the curves: the x axis, its ticks, the legend
    box = bounds(data) if plot_w >= 4 and plot_h >= 2 else None
    if box is None:
        return empty(data, width)
    lines, lo, hi, x_lo, x_hi = box.lines, box.y_lo, box.y_hi, box.x_lo, box.x_hi
    canvas = BrailleCanvas(plot_w, plot_h)
    sx = (canvas.dot_w - 1) / (x_hi - x_lo)
    sy = (canvas.dot_h - 1) / (hi - lo)
    for x, _label in data.markers:
        if x_lo <= x <= x_hi:
            canvas.vline(round((x - x_lo) * sx), "bright_black")
    if data.cursor is not None and x_lo <= data.cursor[0] <= x_hi:
        canvas.vline(round((data.cursor[0] - x_lo) * sx), "bright_white")
    for ln, drawn in zip(lines, box.drawn_ys):
        xs = np.clip(np.asarray(ln.xs, dtype=np.float64), x_lo, x_hi)  # a zoomed window's neighbours sit on its edges
        ys = np.asarray(drawn, dtype=np.float64)
        ys = np.where(np.isfinite(ys), np.rint((hi - np.clip(ys, lo, hi)) * sy), np.nan)  # NaN, inf: a gap
        canvas.curve(np.rint((xs - x_lo) * sx), ys, ln.color)
    return _framed(canvas.rows(), box, data, plot_w) + [legend_row(data, lines)]


def _framed(rows: list, box: Bounds, data: PlotData, plot_w: int) -> list[Runs]:
    """The canvas in the axes plotext draws (render_plotext): y ticks on the left, x ticks under it."""
    plot_h = len(rows)
    y_at = {min(plot_h - 1, max(0, round((box.y_hi - y) / (box.y_hi - box.y_lo) * (plot_h - 1)))): label
            for y, label in y_marks(box, data.log_y, plot_h)}
    x_at = {min(plot_w - 1, max(0, round((x - box.x_lo) / (box.x_hi - box.x_lo) * (plot_w - 1)))): label
            for x, label in x_marks(box, plot_w, data.x_axis)}
    blank = " " * (Y_LABEL_WIDTH - 1)
    out: list[Runs] = []
    for row, runs in enumerate(rows):
        left = y_at[row] + "┤" if row in y_at else blank + "│"
        out.append([(left, "dim")] + [(chunk, color or "") for chunk, color in runs])
    out.append([(blank + "└" + "".join("┬" if c in x_at else "─" for c in range(plot_w)), "dim")])
    labels = [" "] * (plot_w + 1)
    for col, text in sorted(x_at.items()):
        at = min(max(0, col + 1 - len(text) // 2), len(labels) - len(text))
        if all(c == " " for c in labels[max(0, at - 1):at + len(text) + 1]):  # never two labels touching
            labels[at:at + len(text)] = list(text)
    out.append([(blank + "".join(labels), "dim")])
    return out
