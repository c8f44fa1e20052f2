"""What a chart shows, whichever engine draws it: its lines, bounds, markers, window and cursor, and
how its ticks are written (steps as 1.2k, epochs as 3.5ep, wall time as 1:05)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Y_LABEL_WIDTH = 8  # the y tick labels and the axis: every engine leaves this many columns left of the curves
X_TICK_SPACING = 10  # cells per x tick at least, so labels like "999.9k" never touch
Y_TICK_SPACING = 3  # rows per y tick at least
Runs = list[tuple[str, str]]  # (text, style) pieces of one line of a drawn chart


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
        return f"1e{round(value):d}" if abs(value - round(value)) < 1e-9 else f"{10 ** value:.2g}"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 10_000 or magnitude < 1e-3:
        return f"{value:.1e}"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def format_step(value: float) -> str:
    """1,234 steps as 1234, 12,500 as 12.5k, 200,000 as 200k, 1,000,000 as 1M."""
    if value >= 1e4:
        scaled, unit = (value / 1e6, "M") if value >= 1e6 else (value / 1e3, "k")
        return f"{scaled:.1f}".removesuffix(".0") + unit
    return f"{value:.0f}"


def format_x_tick(value: float, axis: str) -> str:
    if axis == "epoch":
        return (f"{value:.1f}".removesuffix(".0") if value < 100 else f"{value:.0f}") + "ep"
    if axis == "wall":
        seconds = max(0, int(value))
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}" if seconds >= 3600 else \
            f"{seconds // 60}:{seconds % 60:02d}"
    return format_step(value)


def transform(values: list[float], log: bool) -> list[float]:
    """Values as drawn: log10 on a log axis (non-positive ones become NaN, a gap in the curve)."""
    if not log:
        return values
    return [math.log10(v) if v > 0 else math.nan for v in values]


@dataclass(frozen=True)
class Bounds:
    """The drawn lines and the box they are drawn in (y already on the log scale where asked)."""

    lines: list[Line]
    y_lo: float
    y_hi: float
    x_lo: float
    x_hi: float
    drawn_ys: list[list[float]] = field(default_factory=list)  # each line's ys as drawn (transform): made once


def bounds(data: PlotData) -> Bounds | None:
    """The box of a chart: the data's own range padded 5%, or its fixed bounds; None: nothing to draw."""
    import numpy as np  # here, not at the top: the picker's first frame does without it

    lines = [ln for ln in data.lines if ln.xs]
    drawn_ys = [transform(ln.ys, data.log_y) for ln in lines]
    ys_all = np.concatenate([np.asarray(ys, dtype=np.float64) for ys in drawn_ys]) if lines else np.zeros(0)
    ys_all = ys_all[np.isfinite(ys_all)]
    if not len(ys_all):
        return None
    lo = float(ys_all.min()) if data.y_min is None else transform([data.y_min], data.log_y)[0]
    hi = float(ys_all.max()) if data.y_max is None else transform([data.y_max], data.log_y)[0]
    if data.y_min is None and data.y_max is None:
        pad = (hi - lo) * 0.05 or (abs(hi) * 0.05 or 0.5)
        lo, hi = lo - pad, hi + pad
    elif hi <= lo:
        hi = lo + 1
    x_lo, x_hi = data.x_range or (min(min(ln.xs) for ln in lines), max(max(ln.xs) for ln in lines))
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    return Bounds(lines, lo, hi, x_lo, x_hi, drawn_ys)


def y_labels(ticks: list[float], log: bool) -> list[str]:
    """Labels for y ticks, as wide as the room left of the axis. A log axis of whole decades reads
    1e-3, 1e-2 ...; one with 2x and 5x ticks between reads 0.5, 1, 2."""
    if log and any(abs(t - round(t)) > 1e-9 for t in ticks):
        return [_fit(f"{10 ** t:.2g}", 10 ** t) for t in ticks]
    return [_fit(format_tick(t, log), 10 ** t if log else t) for t in ticks]


def _fit(label: str, value: float) -> str:
    """A label as wide as the room left of the y axis, in e-notation where the digits do not fit."""
    if len(label) > Y_LABEL_WIDTH - 1:
        label = f"{value:.0e}"
    return f"{label[: Y_LABEL_WIDTH - 1]:>{Y_LABEL_WIDTH - 1}}"


def legend_row(data: PlotData, lines: list[Line]) -> Runs:
    """The row under a chart: each labelled line's colour and name, or the values at the cursor."""
    legend: Runs = [(" " * Y_LABEL_WIDTH, "")]
    if data.cursor is not None:
        legend.append(("│ " + data.cursor[1], "bright_white"))
    else:
        for ln in lines:
            if ln.legend:
                legend += [("━ ", ln.color), (ln.label + "  ", "")]
    return legend


def empty(data: PlotData, width: int) -> list[Runs]:
    return [[(data.empty_text if width > 0 else "", "dim")]]


def nice_ticks(lo: float, hi: float, most: int, min_step: float = 0.0) -> list[float]:
    """The most round values in [lo, hi] (at most `most`), 1, 2 or 5 times a power of ten apart, and
    at least `min_step` apart (a step count has no tick between 25 and 26)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or most < 2:
        return [lo] if math.isfinite(lo) else []
    power = 10 ** math.floor(math.log10((hi - lo) / most))
    for step in (m * power * scale for scale in (1, 10, 100) for m in (1, 2, 5)):
        if step < min_step * (1 - 1e-9):
            continue
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        if last - first + 1 <= most:
            return [0.0 if k == 0 else k * step for k in range(first, last + 1)]
    return [lo, hi]


def log_ticks(lo: float, hi: float, most: int) -> list[float]:
    """Ticks of a log axis, as exponents: whole decades when two or more fit, else 1, 2 and 5 times them."""
    decades = [float(k) for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
    if len(decades) < 2:
        decades = [math.log10(m) + k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
        decades = [d for d in decades if lo - 1e-9 <= d <= hi + 1e-9]
    if len(decades) < 2:  # a narrow range: round values, placed on the log scale
        return [math.log10(v) for v in nice_ticks(10 ** lo, 10 ** hi, most) if v > 0]
    return decades[::math.ceil(len(decades) / max(1, most))]


def y_ticks(box: Bounds, log: bool, canvas_rows: int) -> list[float]:
    """The y ticks of a chart `canvas_rows` tall: one every Y_TICK_SPACING rows at most, six at most."""
    most = max(2, min(6, (canvas_rows - 1) // Y_TICK_SPACING + 1))
    return log_ticks(box.y_lo, box.y_hi, most) if log else nice_ticks(box.y_lo, box.y_hi, most)


MIN_X_STEP = {"step": 1.0, "wall": 1.0, "epoch": 0.1}  # what the x labels can tell apart


def x_marks(box: Bounds, columns: int, axis: str) -> list[tuple[float, str]]:
    """The x ticks and their labels: one every X_TICK_SPACING columns at most."""
    ticks = nice_ticks(box.x_lo, box.x_hi, max(2, columns // X_TICK_SPACING), MIN_X_STEP.get(axis, 0.0))
    return _distinct([(x, format_x_tick(x, axis)) for x in ticks])


def y_marks(box: Bounds, log: bool, canvas_rows: int) -> list[tuple[float, str]]:
    ticks = y_ticks(box, log, canvas_rows)
    return _distinct(list(zip(ticks, y_labels(ticks, log))))


def _distinct(marks: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """Ticks whose labels read the same as the one before (a range narrower than the labels' digits)
    are left out: two ticks both saying "1" tell the user nothing."""
    out: list[tuple[float, str]] = []
    for value, label in marks:
        if not out or out[-1][1].strip() != label.strip():
            out.append((value, label))
    return out
