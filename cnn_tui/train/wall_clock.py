"""A run's wall time across its segments: one clock that the checkpoint carries on resume."""

from __future__ import annotations

import time


class WallClock:
    def __init__(self) -> None:
        self.earlier = 0.0  # wall seconds of the segments before this one (from the checkpoint)
        self.segment_start = time.time()

    def start_segment(self) -> None:
        self.segment_start = time.time()

    @property
    def seconds(self) -> float:
        """Wall seconds of the whole run so far, this segment included."""
        return self.earlier + time.time() - self.segment_start
