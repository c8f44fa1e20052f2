"""Captioned pictures from the run directory, laid out to fill the pane, in half-block cells.

Subclasses say which pictures a run view has (`pictures`) and what the pane's first line says
(`heading`). Pictures load only when their file is new; the board re-lays out only when the
pictures or the pane's size change, so the five redraws a second cost nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from cnn_tui.ui.halfblock import UPPER_HALF, halfblock_cells
from cnn_tui.ui.picture_file import read_if_changed
from cnn_tui.ui.picture_layout import layout
from cnn_tui.ui.view import DrawsRun, RunView


class PictureBoard(Widget, DrawsRun):
    DEFAULT_CSS = "PictureBoard { height: 1fr; width: 1fr; }"
    when_shown: ClassVar[bool] = True
    waiting = "waiting for the first epoch to end..."

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.loaded: dict[str, tuple[Any, tuple[str, float]]] = {}  # path -> (PIL image, source)
        self.captions: list[tuple[str, str]] = []  # (path, caption) shown
        self.text = ""
        self._strips: list[Strip] = []
        self._fitted_for: tuple | None = None

    def pictures(self, view: RunView) -> list[tuple[str, str]]:
        """(path relative to the run dir, caption) of each picture to show."""
        raise NotImplementedError

    def heading(self, view: RunView) -> str:
        return ""

    def draw(self, view: RunView) -> None:
        wanted = self.pictures(view) if view.run_dir is not None else []
        heading = self.heading(view) if wanted else (self.heading(view) or self.waiting)
        changed = wanted != self.captions or heading != self.text
        for path, _ in wanted:
            before = self.loaded.get(path)
            found = read_if_changed(view.run_dir / path if view.run_dir else None, before[1] if before else None)
            if found is not None:
                self.loaded[path] = found
                changed = True
        self.loaded = {p: v for p, v in self.loaded.items() if any(p == w for w, _ in wanted)}
        if changed:
            self.captions, self.text, self._fitted_for = wanted, heading, None
            self.refresh()

    def _fit(self) -> None:
        width, height = self.size.width, self.size.height
        base = self.rich_style
        key = (tuple(self.captions), tuple(v[1] for v in self.loaded.values()), width, height, self.text, base)
        if key == self._fitted_for:
            return
        self._fitted_for = key
        grid = [[Segment(" ", base)] * width for _ in range(height)]
        top = 0
        if self.text:
            _put(grid, 0, 0, self.text[:width], base + Style(dim=True))
            top = 1
        shown = [(self.loaded[p][0], caption) for p, caption in self.captions if p in self.loaded]
        caption_rows = max((caption.count("\n") + 1 for _, caption in shown), default=1)
        tiles = layout([(pic.width, pic.height) for pic, _ in shown], width, height - top, caption_rows)
        for (picture, caption), tile in zip(shown, tiles):
            cells = halfblock_cells(picture, tile.cols, tile.rows)
            left = tile.x + (tile.box_cols - tile.cols) // 2
            for r, row in enumerate(cells):
                for c, (up, low) in enumerate(row):
                    grid[top + tile.y + r][left + c] = Segment(UPPER_HALF, Style.from_color(_color(up), _color(low)))
            for line, words in enumerate(caption.split("\n")):
                text = words[:tile.box_cols]
                _put(grid, top + tile.y + len(cells) + line, tile.x + (tile.box_cols - len(text)) // 2, text, base)
        self._strips = [Strip(Segment.simplify(row)).adjust_cell_length(width, base) for row in grid]

    def render_line(self, y: int) -> Strip:
        self._fit()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)


def _put(grid: list[list[Segment]], y: int, x: int, text: str, style: Style) -> None:
    if not 0 <= y < len(grid):
        return
    row = grid[y]
    for i, ch in enumerate(text):
        if 0 <= x + i < len(row):
            row[x + i] = Segment(ch, style)


def _color(rgb: tuple[int, int, int]):
    from rich.color import Color

    return Color.from_rgb(*rgb)
