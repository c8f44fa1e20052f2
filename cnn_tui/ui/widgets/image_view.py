"""A picture drawn with half-block cells, centred in its box, with a caption underneath.

The picture is re-fitted only when the file or the widget's size changes, so redrawing
the run screen five times a second costs nothing here.
"""

from __future__ import annotations

from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from cnn_tui.ui.halfblock import UPPER_HALF, halfblock_cells
from cnn_tui.ui.picture_file import read_if_changed
from cnn_tui.ui.widgets.run_picture import RunPicture


class ImageView(Widget, RunPicture):
    DEFAULT_CSS = "ImageView { height: 1fr; width: 1fr; }"

    def __init__(self, placeholder: str = "", *, role: str = "latest", id: str | None = None) -> None:
        super().__init__(id=id)
        self.role = role
        self.placeholder = placeholder
        self.picture = None
        self.source: tuple[str, float] | None = None  # (path, mtime) of what is loaded
        self.caption = ""
        self._strips: list[Strip] = []
        self._fitted_for: tuple | None = None

    def show(self, path: Path | None, caption: str = "") -> None:
        """Load `path` if it changed (a missing or half-written file keeps the last picture)."""
        if caption != self.caption:
            self.caption = caption
            self._fitted_for = None
            self.refresh()
        found = read_if_changed(path, self.source)
        if found is None:
            return
        self.picture, self.source = found
        self._fitted_for = None
        self.refresh()

    def _fit(self) -> None:
        width, height = self.size.width, self.size.height
        base = self.rich_style  # the widget's background under the margins and captions
        key = (self.source, width, height, self.caption, base)
        if key == self._fitted_for:
            return
        self._fitted_for = key
        rows_for_picture = max(height - (1 if self.caption else 0), 0)
        strips = []
        if self.picture is not None:
            cells = halfblock_cells(self.picture, width, rows_for_picture)
            for row in cells:
                pad = (width - len(row)) // 2
                segments = [Segment(" " * pad, base)] if pad else []
                segments += [Segment(UPPER_HALF, Style.from_color(_color(up), _color(low))) for up, low in row]
                strips.append(Strip(segments).adjust_cell_length(width, base))
        elif self.placeholder:
            placeholder = Strip([Segment(self.placeholder[:width], base + Style(dim=True))])
            strips.append(placeholder.adjust_cell_length(width, base))
        if self.caption:
            caption = self.caption[:width]
            pad = (width - len(caption)) // 2
            strips.append(Strip([Segment(" " * pad + caption, base + Style(dim=True))]).adjust_cell_length(width, base))
        self._strips = strips

    def render_line(self, y: int) -> Strip:
        self._fit()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)


def _color(rgb: tuple[int, int, int]):
    from rich.color import Color

    return Color.from_rgb(*rgb)
