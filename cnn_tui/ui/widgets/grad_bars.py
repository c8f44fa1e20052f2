"""The latest gradient norm of every layer as a bar on a log scale, flagged in colour:
red for vanishing (far below the largest layer) or exploding, yellow for updates that
are large relative to the weights. Rules match the engine's diagnosis thresholds.

Drawn straight to strips, as the charts are (line_plot.py): the rows are built once per new
statistics or width, as a few (text, style) runs each, and a paint only hands the strips out; new
statistics repaint only the rows that changed. Through Rich Text and a Static the pane cost ~7 ms a
frame at 160x48 (20 layers: the Text parsed back into Content, wrapped and cut into strips anew).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from cnn_tui.contract.readings import EXPLODE_NORM, EXPLODE_UPDATE, VANISH_RATIO
from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.line_plot import _style

LOG_LO, LOG_HI = -8.0, 3.0  # bar range: 1e-8 .. 1e3
FLAGS = {  # reading -> (glyph, colour)
    "healthy": (" ", "green"), "large update": ("!", "yellow"), "vanishing": ("▼", "red"),
    "exploding": ("▲", "red"), "broken": ("✖", "bold red"),
}
LEGEND = "▼ vanishing  ▲ exploding  ! large updates  ✖ NaN/Inf"
Runs = list[tuple[str, str]]  # one row: (text, style name) pieces


def grad_bars_rows(norms: dict[str, float], ratios: dict[str, float], width: int) -> list[Runs]:
    """The pane's rows, each as (text, style) runs: a header, a bar a layer, the legend when a layer is flagged."""
    if not norms:
        return [[("waiting for gradient statistics...", "dim")]]
    name_w = min(max(len(n) for n in norms), max(8, width // 4))
    bar_w = max(4, width - name_w - 24)
    top = max((v for v in norms.values() if math.isfinite(v)), default=0.0)  # a NaN layer flags only itself
    rows: list[Runs] = [[(f"{'layer':<{name_w}}   {'':<{bar_w}} {'‖grad‖':>8} {'update':>8}", "dim")]]
    flagged = False
    for name, norm in norms.items():
        ratio = ratios.get(name, 0.0)
        fill, (flag, style) = bar_w, FLAGS["broken"]
        if math.isfinite(norm):
            level = (math.log10(norm) if norm > 0 else LOG_LO) - LOG_LO
            fill = max(0, min(bar_w, round(bar_w * level / (LOG_HI - LOG_LO))))
            flag, style = FLAGS[_reading(norm, ratio, top)]
        flagged = flagged or flag != " "
        label = name if len(name) <= name_w else "…" + name[-(name_w - 1):]
        # the glyph says it where colour cannot (NO_COLOR, a log)
        rows.append([(f"{label:<{name_w}} ", ""), (f"{flag} " + "█" * fill, style),
                     ("·" * (bar_w - fill), "bright_black"), (f" {norm:>8.1e} {ratio:>8.1e}", "")])
    if flagged:
        rows.append([(LEGEND, "dim")])
    return rows


def _reading(norm: float, ratio: float, top: float) -> str:
    if top > 0 and norm < VANISH_RATIO * top:
        return "vanishing"
    if norm > EXPLODE_NORM or ratio > EXPLODE_UPDATE:
        return "exploding"
    return "large update" if ratio > 1e-2 else "healthy"


class GradBars(Widget, DrawsRun):
    """The latest gradient statistics of every layer, as bars."""

    DEFAULT_CSS = "GradBars { height: auto; width: 1fr; }"
    paced: ClassVar[bool] = True
    when_shown: ClassVar[bool] = True

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: tuple[Any, ...] | None = None
        self._rows: list[Runs] = grad_bars_rows({}, {}, 60)
        self._strips: list[Strip] = []
        self._built_for: tuple[int, Style] | None = None

    def draw(self, view: RunView) -> None:
        self.show(view.state.grad_latest, view.state.ratio_latest)

    def show(self, norms: dict[str, float], ratios: dict[str, float]) -> None:
        """New rows only for new statistics or a new width; re-layout only when the row count changes,
        repaint only the rows that differ."""
        width = self.size.width or 60
        key = (tuple(norms.items()), tuple(ratios.items()), width)
        if key == self._shown:
            return
        rows = grad_bars_rows(norms, ratios, width)
        old, self._rows, self._shown = self._rows, rows, key
        self._built_for = None  # strips are made at the next paint, in the widget's colours
        if len(rows) != len(old) or not self.is_mounted:
            # the height as a style, not only get_content_height: Textual (8.2) caches a widget's box
            # model by a layout count that refresh(layout=True) does not raise while an earlier layout
            # request is pending, so rows that changed then (the pane first shown by a resize, 80x24 ->
            # 200x50) kept the old height of one row until the next statistics, and for good on a
            # finished run; a new style is a new cache key
            self.styles.height = len(rows)
            self.refresh(layout=True)
            return
        changed = [y for y, (before, after) in enumerate(zip(old, rows)) if before != after]
        if len(changed) > len(rows) // 2:
            self.refresh()  # one region, not twenty: each refresh call has its own cost
        for y in changed if len(changed) <= len(rows) // 2 else ():
            self.refresh(Region(0, y, self.size.width, 1))

    def lines(self) -> list[str]:
        """The rows as plain text (tests, logs)."""
        return ["".join(text for text, _ in runs) for runs in self._rows]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows)

    def on_resize(self) -> None:
        if self._shown is not None and self._shown[2] != self.size.width:
            norms, ratios = dict(self._shown[0]), dict(self._shown[1])
            self._shown = None
            self.show(norms, ratios)

    def render_line(self, y: int) -> Strip:
        width, base = self.size.width, self.rich_style
        if self._built_for != (width, base):
            self._built_for = (width, base)
            styles = {name: base + _style(name) for name in {style for runs in self._rows for _, style in runs}}
            self._strips = [_strip(runs, width, base, styles) for runs in self._rows]
        return self._strips[y] if y < len(self._strips) else Strip.blank(width, base)


def _strip(runs: Runs, width: int, base: Style, styles: dict[str, Style]) -> Strip:
    """One row as a strip exactly `width` cells wide (the rows are one cell a character: ASCII, blocks)."""
    segments, used = [], 0
    for text, style in runs:
        if used + len(text) > width:
            text = text[:max(0, width - used)]
        if text:
            segments.append(Segment(text, styles[style]))
            used += len(text)
    if used < width:
        segments.append(Segment(" " * (width - used), base))
    return Strip(segments, width)
