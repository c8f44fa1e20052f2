"""Track the best value of a metric: used for best.pt and for early stopping."""

from __future__ import annotations

import math
from typing import Any


class Monitor:
    def __init__(self, metric: str, mode: str, min_delta: float = 0.0, patience: int = 0) -> None:
        self.metric = metric
        self.mode = mode
        self.min_delta = min_delta
        self.patience = patience
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0

    def improved(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, metrics: dict[str, float], epoch: int) -> bool:
        """Record an epoch's metrics; True if the monitored metric improved."""
        value = metrics.get(self.metric, float("nan"))
        if self.improved(value):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]
