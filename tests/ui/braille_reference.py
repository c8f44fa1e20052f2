"""The braille rasteriser as it was before it was vectorised (plain Python, one span per dot column),
kept as the reference the numpy one (cnn_tui/ui/widgets/canvas.py) must match glyph for glyph."""

from __future__ import annotations

import math

from cnn_tui.ui.plot_data import PlotData, bounds, transform

BRAILLE = 0x2800
DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row % 4][col % 2]
# SPANS[col % 2][lo][hi]: the bits of dots lo..hi (rows within a cell) in one column
SPANS = tuple(tuple(tuple(sum(DOTS[r][c] for r in range(lo, hi + 1)) for hi in range(4)) for lo in range(4))
              for c in range(2))


class BrailleCanvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height  # in cells
        self.dot_w, self.dot_h = width * 2, height * 4
        self.bits = [[0] * width for _ in range(height)]
        self.colors: list[list[str | None]] = [[None] * width for _ in range(height)]

    def dot(self, x: int, y: int, color: str) -> None:
        """Set the dot at (x, y) with y = 0 at the top."""
        if 0 <= x < self.dot_w and 0 <= y < self.dot_h:
            row, col = y >> 2, x >> 1
            self.bits[row][col] |= DOTS[y & 3][x & 1]
            self.colors[row][col] = color

    def span(self, x: int, y0: int, y1: int, color: str) -> None:
        """Dots (x, y0..y1) of one dot column: one OR per cell instead of one per dot."""
        if not 0 <= x < self.dot_w:
            return
        if y0 > y1:
            y0, y1 = y1, y0
        y0, y1 = max(y0, 0), min(y1, self.dot_h - 1)
        col, masks = x >> 1, SPANS[x & 1]
        bits, colors = self.bits, self.colors
        for row in range(y0 >> 2, (y1 >> 2) + 1):
            lo, hi = max(y0 - 4 * row, 0), min(y1 - 4 * row, 3)
            bits[row][col] |= masks[lo][hi]
            colors[row][col] = color

    def line(self, x0: int, y0: int, x1: int, y1: int, color: str) -> None:
        """A line between two dots, drawn as one vertical span per dot column it crosses
        (steep segments, the common case for noisy curves, cost cells, not dots)."""
        if x0 > x1:
            x0, y0, x1, y1 = x1, y1, x0, y0
        if x0 == x1:
            self.span(x0, y0, y1, color)
            return
        slope = (y1 - y0) / (x1 - x0)
        prev = y0
        for x in range(x0, x1 + 1):
            # the y where the line leaves this column (half-way to the next), or the end
            nxt = y1 if x == x1 else round(y0 + slope * (x + 0.5 - x0))
            self.span(x, prev, nxt, color)
            prev = nxt

    def vline(self, x: int, color: str) -> None:
        for y in range(0, self.dot_h, 2):
            self.dot(x, y, color)

    def rows(self) -> list[list[tuple[str, str | None]]]:
        """Each row as runs of (text, color)."""
        out = []
        for bits, colors in zip(self.bits, self.colors):
            runs: list[tuple[str, str | None]] = []
            text: list[str] = []
            current = colors[0] if bits[0] else None
            for b, c in zip(bits, colors):
                c = c if b else None
                if c != current and text:
                    runs.append(("".join(text), current))
                    text = []
                current = c
                text.append(chr(BRAILLE + b) if b else " ")
            if text:
                runs.append(("".join(text), current))
            out.append(runs)
        return out


def reference_rows(data: PlotData, plot_w: int, plot_h: int) -> list[list[tuple[str, str | None]]]:
    """The canvas rows render_braille drew before: markers, the cursor, then each line's points joined."""
    box = bounds(data)
    assert box is not None
    lines, lo, hi, x_lo, x_hi = box.lines, box.y_lo, box.y_hi, box.x_lo, box.x_hi
    canvas = BrailleCanvas(plot_w, plot_h)
    sx = (canvas.dot_w - 1) / (x_hi - x_lo)
    sy = (canvas.dot_h - 1) / (hi - lo)
    for x, _label in data.markers:
        if x_lo <= x <= x_hi:
            canvas.vline(round((x - x_lo) * sx), "bright_black")
    if data.cursor is not None and x_lo <= data.cursor[0] <= x_hi:
        canvas.vline(round((data.cursor[0] - x_lo) * sx), "bright_white")
    for ln in lines:
        prev = None
        for x, y in zip(ln.xs, transform(ln.ys, data.log_y)):
            if not math.isfinite(y):
                prev = None
                continue
            px = round((min(max(x, x_lo), x_hi) - x_lo) * sx)
            py = round((hi - min(max(y, lo), hi)) * sy)
            if prev is None:
                canvas.dot(px, py, ln.color)
            else:
                canvas.line(prev[0], prev[1], px, py, ln.color)
            prev = (px, py)
    return canvas.rows()
