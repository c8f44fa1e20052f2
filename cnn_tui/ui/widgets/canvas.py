"""A braille dot canvas: each terminal cell holds 2x4 dots, so a 60x15 pane draws 120x60.

Plain Python, no Textual: the plot widget turns its rows into styled segments.
"""

from __future__ import annotations

BRAILLE = 0x2800
DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row % 4][col % 2]


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

    def line(self, x0: int, y0: int, x1: int, y1: int, color: str) -> None:
        """Bresenham's line between two dots."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        dot = self.dot
        for _ in range(dx - dy + 1):
            dot(x0, y0, color)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def vline(self, x: int, color: str) -> None:
        for y in range(0, self.dot_h, 2):
            self.dot(x, y, color)

    def rows(self) -> list[list[tuple[str, str | None]]]:
        """Each row as runs of (text, color)."""
        out = []
        for bits, colors in zip(self.bits, self.colors):
            runs: list[tuple[str, str | None]] = []
            text, current = [], colors[0] if bits[0] else None
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
