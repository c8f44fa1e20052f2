"""Pictures as terminal cells: each cell is '▀' with the upper pixel as its foreground
colour and the lower pixel as its background, so a cell holds two square-ish pixels.
Works in every truecolour terminal, tmux included (where graphics protocols rarely pass).

Plain Python + PIL, no Textual, so it is unit-testable and reusable.
"""

from __future__ import annotations

UPPER_HALF = "▀"
RGB = tuple[int, int, int]


def fit_cells(width_px: int, height_px: int, max_cols: int, max_rows: int) -> tuple[int, int]:
    """The largest (cols, rows) that shows the whole picture with its aspect ratio kept."""
    if width_px <= 0 or height_px <= 0 or max_cols <= 0 or max_rows <= 0:
        return 0, 0
    scale = min(max_cols / width_px, 2 * max_rows / height_px)
    cols = max(1, min(max_cols, round(width_px * scale)))
    rows = max(1, min(max_rows, round(height_px * scale / 2)))
    return cols, rows


def halfblock_cells(picture, max_cols: int, max_rows: int) -> list[list[tuple[RGB, RGB]]]:
    """Rows of (upper, lower) colour pairs, one per cell, for a PIL image fitted to the box."""
    from PIL import Image

    cols, rows = fit_cells(picture.width, picture.height, max_cols, max_rows)
    if cols == 0:
        return []
    import numpy as np

    small = np.asarray(picture.convert("RGB").resize((cols, rows * 2), Image.Resampling.BOX)).tolist()
    return [[(tuple(up), tuple(low)) for up, low in zip(small[2 * row], small[2 * row + 1])] for row in range(rows)]
