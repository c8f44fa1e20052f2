"""Several captioned pictures in one box of terminal cells: how many per row makes each as large
as it can be, and where each goes. Pure Python (no Textual), so it is unit-testable."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnn_tui.ui.halfblock import fit_cells


@dataclass(frozen=True)
class Tile:
    x: int  # cell column of the tile's box
    y: int  # cell row
    cols: int  # the picture's size in cells (the caption goes under it)
    rows: int
    box_cols: int  # the tile's box width: the caption is centred and clipped in it


def layout(sizes: list[tuple[int, int]], cols: int, rows: int, caption_rows: int = 1,
           gap: int = 1) -> list[Tile]:
    """Tiles for pictures of `sizes` (px) in a cols x rows box: the row count that gives the
    smallest picture the most cells; [] when nothing fits."""
    n = len(sizes)
    best: tuple[int, list[Tile]] = (0, [])
    for per_row in range(1, n + 1):
        lines = math.ceil(n / per_row)
        box_cols = (cols - gap * (per_row - 1)) // per_row
        box_rows = (rows - gap * (lines - 1)) // lines - caption_rows
        if box_cols < 2 or box_rows < 1:
            continue
        tiles = []
        for i, (w, h) in enumerate(sizes):
            r, c = divmod(i, per_row)
            fit_c, fit_r = fit_cells(w, h, box_cols, box_rows)
            tiles.append(Tile(c * (box_cols + gap), r * (box_rows + caption_rows + gap), fit_c, fit_r, box_cols))
        smallest = min(t.cols * t.rows for t in tiles)
        if smallest > best[0]:
            best = (smallest, tiles)
    return best[1]
