"""A line chart widget: a PlotData drawn by one of two engines into strips.

plotext (the product's charting library: a real frame, round ticks on both axes, vertical markers) or
our braille canvas (a few ms a chart, no Python object per point); the screen picks one per chart
each redraw (ui/chart_engines.py). Either way the strips are built once per new data, size or
engine, never per paint: a chart off screen, or handed the data it already shows (a key, a finished
run), costs nothing; a chart on screen handed new data repaints (and sends to the terminal) only the
rows that changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from cnn_tui.ui.plot_data import Y_LABEL_WIDTH, PlotData, Runs
from cnn_tui.ui.widgets.braille_render import render_braille
from cnn_tui.ui.widgets.plotext_render import render_plotext

Renderer = Callable[[PlotData, int, int], list[Runs]]
ENGINES: dict[str, Renderer] = {"plotext": render_plotext, "braille": render_braille}


class LinePlot(Widget):
    DEFAULT_CSS = "LinePlot { height: 1fr; width: 1fr; }"

    def __init__(self, *, engine: str = "plotext", id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.engine = engine
        self.data = PlotData()
        self._strips: list[Strip] = []
        self._built_for: tuple | None = None
        self._base: Style | None = None

    def set_data(self, data: PlotData) -> None:
        if data == self.data:
            return  # the same curves: the strips stay, and nothing is repainted
        self.data = data
        key = self._built_for
        if key is None or key[:2] != (self.size.width, self.size.height) or not self.is_mounted:
            self._built_for = None
            self.refresh()
            return
        old = self._strips  # built now, not at the paint: only the cells that differ are repainted (and sent)
        self._build(key[0], key[1], key[2], self.engine)
        width = self.size.width
        for y, strip in enumerate(self._strips):
            if y >= len(old):
                self.refresh(Region(0, y, width, 1))
            elif strip != old[y]:
                start, end = _changed_span(old[y], strip)
                self.refresh(Region(start, y, max(1, end - start), 1))
        if len(old) > len(self._strips):
            self.refresh(Region(0, len(self._strips), width, len(old) - len(self._strips)))

    @property
    def plot_columns(self) -> int:
        """Cells available for the curves: callers reduce series to 2 points per cell."""
        return max(1, self.size.width - Y_LABEL_WIDTH)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # the widget's colours (background, text): once a paint, not once a line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Strips straight from the engine's runs (no Rich Text to re-parse): a frame costs ~2x less."""
        width, height = self.size.width, self.size.height
        base = self._base if self._base is not None else self.rich_style  # under every piece
        if self._built_for != (width, height, base, self.engine):
            self._build(width, height, base, self.engine)
        return self._strips[y] if y < len(self._strips) else Strip.blank(width, base)

    def _build(self, width: int, height: int, base: Style, engine: str) -> None:
        self._built_for = (width, height, base, engine)
        rows = (Strip([Segment(text, base + _style(style)) for text, style in runs])
                for runs in ENGINES[engine](self.data, width, height))
        self._strips = [row.adjust_cell_length(width, base) for row in rows]


def _changed_span(old: Strip, new: Strip) -> tuple[int, int]:
    """The cells [start, end) where two rows of one chart differ, in text or style: a curve that
    moved in one place repaints that place, not the whole row of blanks around it. (A chart's cells
    are one column wide each: braille, box drawing, ASCII; a wide character in a legend only makes
    the span wider than it needs to be.)"""
    ids: dict = {}

    def cells(strip: Strip) -> list[tuple[str, int]]:
        return [(ch, ids.setdefault(segment.style, len(ids))) for segment in strip for ch in segment.text]

    before, after = cells(old), cells(new)
    start, limit = 0, min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end = len(after)
    if len(before) == len(after):
        while end > start and before[end - 1] == after[end - 1]:
            end -= 1
    return start, max(end, start + 1)


@lru_cache(maxsize=256)
def _style(name: str) -> Style:
    return Style.parse(name) if name else Style()
