"""A braille dot canvas: each terminal cell holds 2x4 dots, so a 60x15 pane draws 120x60.

Vectorised with numpy (a chart of 2,000 points is a handful of array operations, not a Python loop
per point or per dot column): curves become vertical spans of dots, one per dot column a segment
crosses; the spans become dots through a difference array summed down each column; the dots become
braille characters by packing each cell's 2x4 block into the bits of its code. Each layer (a marker
line, a curve) is drawn in order and a cell takes the colour of the last layer with a dot in it, as
a pen would. The output is exactly the plain-Python canvas's it replaced (tests/ui/braille_reference.py
keeps that one).

No Textual here: the plot widget turns the rows into styled segments.
"""

from __future__ import annotations

import numpy as np

BRAILLE = 0x2800
# A cell's 2x4 dots, flattened row by row ((row % 4) * 2 + col % 2), in the order of their bits in the
# braille code (bit 0: top left, bit 3: top right, bits 6 and 7: the bottom row)
BIT_ORDER = [0, 2, 4, 1, 3, 5, 6, 7]


class BrailleCanvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height  # in cells
        self.dot_w, self.dot_h = width * 2, height * 4
        self._layers: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]] = []  # spans (x, top, bottom), colour

    def vline(self, x: int, color: str) -> None:
        """A dotted vertical line (every other dot) at dot column x: a marker or the cursor."""
        ys = np.arange(0, self.dot_h, 2)
        self._add(np.full(len(ys), x), ys, ys, color)

    def curve(self, xs: np.ndarray, ys: np.ndarray, color: str) -> None:
        """Points (dot coordinates, y = 0 at the top; NaN y: a gap) joined by lines.

        A line between two dots is one vertical span per dot column it crosses, from where it enters
        the column to where it leaves it (half-way to the next), so a steep segment costs columns, not
        dots. A point with no finite neighbour is a single dot."""
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        finite = np.isfinite(ys)
        joined = finite[:-1] & finite[1:]  # segment k joins points k and k + 1
        x0, y0, x1, y1 = xs[:-1][joined], ys[:-1][joined], xs[1:][joined], ys[1:][joined]
        backwards = x0 > x1  # drawn left to right
        x0, x1 = np.where(backwards, x1, x0), np.where(backwards, x0, x1)
        y0, y1 = np.where(backwards, y1, y0), np.where(backwards, y0, y1)
        columns = (x1 - x0).astype(np.int64)  # each segment covers columns x0..x1: columns + 1 of them
        seg = np.repeat(np.arange(len(x0)), columns + 1)
        first = np.cumsum(columns + 1) - (columns + 1)
        j = np.arange(len(seg)) - first[seg]  # the column within its segment
        slope = np.divide(y1 - y0, columns, out=np.zeros_like(y0), where=columns > 0)
        leave = np.where(j == columns[seg], y1[seg], np.rint(y0[seg] + slope[seg] * (j + 0.5)))
        enter = np.empty_like(leave)  # where the line enters a column: where it left the one before
        enter[1:] = leave[:-1]
        enter = np.where(j == 0, y0[seg], enter)
        # lone points (a piece of one point between gaps, or the whole curve) are spans of one dot
        alone = finite & ~np.concatenate(([False], joined)) & ~np.concatenate((joined, [False]))
        self._add(np.concatenate((x0[seg] + j, xs[alone])), np.concatenate((np.minimum(enter, leave), ys[alone])),
                  np.concatenate((np.maximum(enter, leave), ys[alone])), color)

    def _add(self, x: np.ndarray, top: np.ndarray, bottom: np.ndarray, color: str) -> None:
        x = x.astype(np.int64)
        keep = (x >= 0) & (x < self.dot_w)
        top = np.clip(top[keep].astype(np.int64), 0, self.dot_h - 1)
        bottom = np.clip(bottom[keep].astype(np.int64), 0, self.dot_h - 1)
        self._layers.append((x[keep], top, bottom, color))

    @staticmethod
    def _covered(x: np.ndarray, top: np.ndarray, bottom: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """Which of a rows x cols grid the spans (x, top..bottom) cover: +1 where each starts and -1
        under where it ends, summed down each column."""
        size = (rows + 1) * cols
        marks = np.bincount(top * cols + x, minlength=size) - np.bincount((bottom + 1) * cols + x, minlength=size)
        return (np.cumsum(marks.reshape(rows + 1, cols), axis=0) > 0)[:rows]

    def rows(self) -> list[list[tuple[str, str | None]]]:
        """Each row as runs of (text, color): a blank cell has no colour."""
        height, width = self.height, self.width
        owner = np.full((height, width), -1, dtype=np.int32)  # the colour of the last layer with a dot there
        colors: list[str] = []
        for x, top, bottom, color in self._layers:  # the cells each layer touches, at cell resolution
            if color not in colors:
                colors.append(color)
            owner[self._covered(x >> 1, top >> 2, bottom >> 2, height, width)] = colors.index(color)
        if self._layers:  # every layer's dots at once: which layer set a dot does not matter to the glyph
            x, top, bottom = (np.concatenate(parts) for parts in list(zip(*self._layers))[:3])
            dots = self._covered(x, top, bottom, self.dot_h, self.dot_w)
        else:
            dots = np.zeros((self.dot_h, self.dot_w), dtype=bool)
        cells = dots.reshape(height, 4, width, 2).transpose(0, 2, 1, 3).reshape(height, width, 8)
        bits = np.packbits(cells[:, :, BIT_ORDER], axis=-1, bitorder="little")[:, :, 0].astype(np.int32)
        codes = np.where(bits > 0, BRAILLE + bits, ord(" ")).astype("<u4")
        text = codes.tobytes().decode("utf-32-le")
        breaks = owner[:, 1:] != owner[:, :-1]  # a new run where the colour changes
        out = []
        for row in range(height):
            line = text[row * width:(row + 1) * width]
            edges = [0, *(np.flatnonzero(breaks[row]) + 1).tolist(), width]
            out.append([(line[a:b], colors[owner[row, a]] if owner[row, a] >= 0 else None)
                        for a, b in zip(edges, edges[1:])])
        return out
