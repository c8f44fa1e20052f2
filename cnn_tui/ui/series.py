"""Bounded series for plots: W&B-style buckets of min/max/mean/last, never more than
`capacity` in memory however long the run; the full record stays on disk.

When full, neighbouring buckets merge pairwise, so resolution halves but the whole
x-range stays covered.
"""

from __future__ import annotations

import math


class BucketedSeries:
    __slots__ = ("capacity", "per_bucket", "xs", "mins", "maxs", "sums", "counts", "lasts")

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity - capacity % 2 or 2
        self.per_bucket = 1  # raw points a full bucket holds
        self.xs: list[float] = []  # x of each bucket's last point
        self.mins: list[float] = []
        self.maxs: list[float] = []
        self.sums: list[float] = []
        self.counts: list[int] = []
        self.lasts: list[float] = []

    def __len__(self) -> int:
        return len(self.xs)

    def append(self, x: float, y: float) -> None:
        if not math.isfinite(y):
            return  # NaN/Inf points are reported by diagnosis, not drawn
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

    def means(self) -> list[float]:
        return [s / c for s, c in zip(self.sums, self.counts)]

    def points(self, max_points: int | None = None) -> tuple[list[float], list[float]]:
        """(xs, mean ys), merged further to at most `max_points` for drawing."""
        xs, ys = self.xs, self.means()
        if max_points is None or len(xs) <= max_points or max_points < 1:
            return list(xs), ys
        step = len(xs) / max_points
        out_x, out_y = [], []
        for k in range(max_points):
            lo, hi = int(k * step), max(int((k + 1) * step), int(k * step) + 1)
            weight = sum(self.counts[lo:hi])
            out_x.append(xs[hi - 1])
            out_y.append(sum(self.sums[lo:hi]) / weight)
        return out_x, out_y

    @property
    def last(self) -> float | None:
        return self.lasts[-1] if self.lasts else None
