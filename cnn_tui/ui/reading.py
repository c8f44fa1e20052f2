"""Reading a curve precisely: how one chart is looked at (its x window, a value cursor, a log y axis,
a y range that ignores the first spike) and what the x axis counts (steps, epochs or wall time).
Pure functions over PlotData, so every chart of every screen reads the same way."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

from cnn_tui.ui.plot_data import Line, PlotData
from cnn_tui.ui.series import BucketedSeries

X_AXES = ("step", "epoch", "wall")  # what `x` cycles through
MIN_WINDOW = 1 / 64  # the narrowest zoom, as a share of the whole x range
ROBUST = (0.02, 0.98)  # quantiles of the visible points a robust y range spans


@dataclass
class Reading:
    """How the user reads one chart; the chart's own defaults where None."""

    window: tuple[float, float] = (0.0, 1.0)  # the x range shown, as shares of the whole
    cursor: float | None = None  # where the value cursor is, as a share of the window
    log_y: bool | None = None
    robust: bool = False

    @property
    def zoomed(self) -> bool:
        return self.window != (0.0, 1.0)

    def zoom(self, factor: float, around: float | None = None) -> None:
        """factor < 1 zooms in (around a share of the window: the cursor, the mouse, else the middle)."""
        lo, hi = self.window
        span = min(1.0, max(MIN_WINDOW, (hi - lo) * factor))
        centre = lo + (hi - lo) * (around if around is not None else (self.cursor if self.cursor is not None else 0.5))
        lo = min(max(0.0, centre - span * (centre - lo) / max(hi - lo, 1e-12)), 1.0 - span)
        self.window = (lo, lo + span)

    def pan(self, shares: float) -> None:
        """Move the window by `shares` of its width (negative: to the left)."""
        lo, hi = self.window
        shift = min(max(-lo, (hi - lo) * shares), 1.0 - hi)
        self.window = (lo + shift, hi + shift)

    def move_cursor(self, delta: float) -> None:
        self.cursor = min(1.0, max(0.0, (self.cursor if self.cursor is not None else 0.5) + delta))


def x_mapping(axis: str, steps_per_epoch: int, wall: BucketedSeries | None):
    """step -> the axis' value: the step itself, epochs (fractional) or seconds since the start."""
    if axis == "epoch" and steps_per_epoch > 0:
        return lambda step: step / steps_per_epoch
    if axis == "wall" and wall is not None and len(wall):
        xs, ts = wall.xs, wall.lasts

        def seconds(step: float) -> float:
            i = bisect.bisect_left(xs, step)
            if i <= 0:
                return ts[0] * step / xs[0] if xs[0] else ts[0]
            if i >= len(xs):
                return ts[-1]
            x0, x1 = xs[i - 1], xs[i]
            return ts[i - 1] + (ts[i] - ts[i - 1]) * (step - x0) / (x1 - x0 or 1)

        return seconds
    return None


def apply(data: PlotData, reading: Reading, axis: str = "step", to_axis: list | None = None) -> PlotData:
    """The chart as read: x on the chosen axis (`to_axis[k]` maps the k-th run's steps: each run has its
    own epochs and clock), the zoom window, the y axis and range, the cursor."""
    lines = [ln for ln in data.lines if ln.xs]
    markers = list(data.markers)
    if to_axis and to_axis[0] is not None:
        lines = [replace(ln, xs=[to_axis[ln.owner](x) for x in ln.xs]) if ln.owner < len(to_axis)
                 and to_axis[ln.owner] is not None else ln for ln in lines]
        markers = [(to_axis[0](x), label) for x, label in markers]
    xs = [x for ln in lines for x in ln.xs]
    if not xs:
        return replace(data, lines=lines, markers=markers, x_axis=axis)
    full_lo, full_hi = min(xs), max(xs)
    x_lo = full_lo + (full_hi - full_lo) * reading.window[0]
    x_hi = full_lo + (full_hi - full_lo) * reading.window[1]
    if reading.zoomed:
        lines = [_within(ln, x_lo, x_hi) for ln in lines]
        markers = [(x, label) for x, label in markers if x_lo <= x <= x_hi]
    log_y = data.log_y if reading.log_y is None else reading.log_y
    y_min, y_max = data.y_min, data.y_max
    if log_y and not data.log_y:
        y_min = y_max = None  # a linear chart's fixed bounds (0..1) mean nothing on a log axis
    if reading.robust:
        y_min, y_max = _robust_range([y for ln in lines for y in ln.ys], log_y) or (y_min, y_max)
    cursor = None
    if reading.cursor is not None:
        at = x_lo + (x_hi - x_lo) * reading.cursor
        cursor = (at, readout(lines, at, axis))
    return replace(data, lines=lines, markers=markers, log_y=log_y, y_min=y_min, y_max=y_max,
                   x_range=(x_lo, x_hi) if reading.zoomed else None, cursor=cursor, x_axis=axis)


def _within(line: Line, lo: float, hi: float) -> Line:
    """The points in [lo, hi] and one on each side, so the curve runs to the window's edges."""
    start = max(0, bisect.bisect_left(line.xs, lo) - 1)
    end = min(len(line.xs), bisect.bisect_right(line.xs, hi) + 1)
    return replace(line, xs=line.xs[start:end], ys=line.ys[start:end])


def _robust_range(ys: list[float], log: bool) -> tuple[float, float] | None:
    """The 2nd to 98th percentile of the points shown, padded: a first spike no longer squashes the rest."""
    values = sorted(y for y in ys if math.isfinite(y) and (y > 0 or not log))
    if len(values) < 5:
        return None
    lo, hi = values[int(ROBUST[0] * (len(values) - 1))], values[int(ROBUST[1] * (len(values) - 1))]
    if log:
        pad = (math.log10(hi) - math.log10(lo)) * 0.1 if hi > lo else 0.1
        return 10 ** (math.log10(lo) - pad), 10 ** (math.log10(hi) + pad)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 0.1
    return lo - pad, hi + pad


def readout(lines: list[Line], at: float, axis: str) -> str:
    """'step 1,234: train 0.412, val 0.503': every labelled line's value at the cursor (nearest point)."""
    parts = [f"{format_x(at, axis)}:"]
    for line in lines:
        if not line.xs or not line.label or line.label == "raw":
            continue
        i = bisect.bisect_left(line.xs, at)
        nearest = min((j for j in (i - 1, i) if 0 <= j < len(line.xs)), key=lambda j: abs(line.xs[j] - at))
        parts.append(f"{line.label.removesuffix(' (smoothed)')} {line.ys[nearest]:.4g}")
    return " ".join(parts[:1]) + " " + ", ".join(parts[1:])


def format_x(value: float, axis: str) -> str:
    if axis == "epoch":
        return f"epoch {value:.2f}"
    if axis == "wall":
        seconds = max(0, int(value))
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
            f"{seconds // 60}:{seconds % 60:02d}"
    return f"step {value:,.0f}"
