"""Activations over time (fastai's "colorful dimension"): per layer, the histogram of its outputs at
each gradient tick, kept as a bounded time-by-bins array for the inside page's heat strips.

Bounded like the curves' series (ui.series): when full, neighbouring ticks merge pairwise (each bin
keeps the larger level, so a layer's collapse or saturation never averages away), the resolution
halves and the whole run stays covered.
"""

from __future__ import annotations

CAPACITY = 256  # columns (ticks, or merged ticks) kept per layer: wider than any pane


class ActivationStrip:
    __slots__ = ("columns", "per_column", "low", "high", "edits", "_counts")

    def __init__(self) -> None:
        self.columns: list[list[int]] = []  # one per tick (merged when full), levels 0..99, bottom bin first
        self.per_column = 1  # ticks a full column holds
        self.low, self.high = 0.0, 1.0  # the range of the latest tick's bins
        self.edits = 0  # bumped on every change: a drawing made from an older count is stale
        self._counts: list[int] = []

    def append(self, levels: list[int], low: float, high: float) -> None:
        self.edits += 1
        self.low, self.high = low, high
        if len(self.columns) >= CAPACITY and self._counts[-1] >= self.per_column:
            self._halve()
        if self.columns and self._counts[-1] < self.per_column:
            self.columns[-1] = [max(a, b) for a, b in zip(self.columns[-1], levels)]
            self._counts[-1] += 1
        else:
            self.columns.append(list(levels))
            self._counts.append(1)

    def _halve(self) -> None:
        n = len(self.columns) // 2 * 2
        self.columns = [[max(a, b) for a, b in zip(self.columns[i], self.columns[i + 1])]
                        for i in range(0, n, 2)] + self.columns[n:]
        self._counts = [self._counts[i] + self._counts[i + 1] for i in range(0, n, 2)] + self._counts[n:]
        self.per_column *= 2

    def fitted(self, width: int, rows: int) -> list[list[int]]:
        """The strip as at most `width` columns of `rows` levels each (bottom first): neighbouring
        ticks and bins merged by their largest level, so one cell stands for the busiest it covers."""
        if width <= 0 or rows <= 0 or not self.columns:
            return []
        n = len(self.columns)
        shown = min(width, n)  # each drawn column covers ticks [c * n // shown, (c + 1) * n // shown)
        merged = [[max(bins) for bins in zip(*self.columns[c * n // shown:(c + 1) * n // shown])]
                  for c in range(shown)]
        bins = len(merged[0])
        edges = [round(r * bins / rows) for r in range(rows + 1)]
        return [[max(col[edges[r]:edges[r + 1]] or [0]) for r in range(rows)] for col in merged]
