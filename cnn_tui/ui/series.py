"""Bounded series for plots: W&B-style buckets of min/max/mean/last, never more than
`capacity` in memory however long the run; the full record stays on disk.

When full, neighbouring buckets merge pairwise, so resolution halves but the whole
x-range stays covered.
"""

from __future__ import annotations

import math


class BucketedSeries:
    __slots__ = ("capacity", "per_bucket", "xs", "mins", "maxs", "sums", "counts", "lasts", "edits", "_drawn")

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity - capacity % 2 or 2
        self.per_bucket = 1  # raw points a full bucket holds
        self.xs: list[float] = []  # x of each bucket's last point
        self.mins: list[float] = []
        self.maxs: list[float] = []
        self.sums: list[float] = []
        self.counts: list[int] = []
        self.lasts: list[float] = []
        self.edits = 0  # bumped on every change: what was drawn from an older count is stale
        self._drawn: tuple[int, int | None, tuple[list[float], list[float]]] | None = None  # points()' last answer

    def __len__(self) -> int:
        return len(self.xs)

    def append(self, x: float, y: float) -> None:
        if not math.isfinite(y):
            return  # NaN/Inf points are reported by diagnosis, not drawn
        self.edits += 1
        if self.xs and self.counts[-1] < self.per_bucket:
            self._add_to_last(x, y)
            return
        if len(self.xs) >= self.capacity:
            self._halve()
            if self.counts[-1] < self.per_bucket:
                self._add_to_last(x, y)
                return
        self.xs.append(x)
        self.mins.append(y)
        self.maxs.append(y)
        self.sums.append(y)
        self.counts.append(1)
        self.lasts.append(y)

    def _add_to_last(self, x: float, y: float) -> None:
        self.xs[-1] = x
        self.mins[-1] = min(self.mins[-1], y)
        self.maxs[-1] = max(self.maxs[-1], y)
        self.sums[-1] += y
        self.counts[-1] += 1
        self.lasts[-1] = y

    def _halve(self) -> None:
        """Merge neighbouring buckets pairwise; each bucket now holds twice as many points."""
        n = len(self.xs) // 2 * 2

        def merge(seq: list, fn) -> list:
            return [fn(seq[i], seq[i + 1]) for i in range(0, n, 2)] + seq[n:]

        self.xs = merge(self.xs, lambda a, b: b)
        self.mins = merge(self.mins, min)
        self.maxs = merge(self.maxs, max)
        self.sums = merge(self.sums, lambda a, b: a + b)
        self.counts = merge(self.counts, lambda a, b: a + b)
        self.lasts = merge(self.lasts, lambda a, b: b)
        self.per_bucket *= 2
        self.edits += 1

    def means(self) -> list[float]:
        return [s / c for s, c in zip(self.sums, self.counts)]

    def points(self, max_points: int | None = None) -> tuple[list[float], list[float]]:
        """(xs, mean ys), merged further to at most `max_points` for drawing. Kept until the series
        changes: a redraw with no new point (a key, a finished run) costs nothing here."""
        if self._drawn is not None and self._drawn[:2] == (self.edits, max_points):
            xs, ys = self._drawn[2]
            return list(xs), list(ys)
        drawn = self._points(max_points)
        self._drawn = (self.edits, max_points, drawn)
        return list(drawn[0]), list(drawn[1])

    def _points(self, max_points: int | None) -> tuple[list[float], list[float]]:
        """Each drawn point merges buckets lo..hi-1 (k * len / max_points onwards). The sums are added
        left to right, one column of the padded (points x buckets) table at a time, so every mean is
        the float the plain loop `sum(sums[lo:hi]) / sum(counts[lo:hi])` gave, in a few array operations."""
        xs = self.xs
        if max_points is None or len(xs) <= max_points or max_points < 1:
            return list(xs), self.means()
        import numpy as np  # here, not at the top: the picker's first frame does without it

        step = len(xs) / max_points
        k = np.arange(max_points)
        lo = (k * step).astype(np.int64)
        hi = np.maximum(((k + 1) * step).astype(np.int64), lo + 1)
        sums, counts = np.asarray(self.sums, dtype=np.float64), np.asarray(self.counts, dtype=np.int64)
        total, weight = np.zeros(max_points), np.zeros(max_points, dtype=np.int64)
        for offset in range(int((hi - lo).max())):
            at = lo + offset
            inside = at < hi
            at = np.minimum(at, len(xs) - 1)
            total += np.where(inside, sums[at], 0.0)
            weight += np.where(inside, counts[at], 0)
        return [xs[i] for i in (hi - 1).tolist()], (total / weight).tolist()

    @property
    def last(self) -> float | None:
        return self.lasts[-1] if self.lasts else None
