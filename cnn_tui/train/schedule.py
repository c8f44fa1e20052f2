"""Learning-rate schedules with linear warmup, computed per step as a factor of the base lr.

One small class instead of chaining torch schedulers: warmup, the shape (constant, step,
cosine, one-cycle) and reduce-on-plateau compose by multiplication, and the whole
state is three numbers that a checkpoint restores exactly.
"""

from __future__ import annotations

import math
from typing import Any

import torch


class LRSchedule:
    def __init__(self, cfg: Any, steps_per_epoch: int, epochs: int) -> None:
        self.cfg = cfg
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.total = max(1, steps_per_epoch * epochs)
        self.warmup = int(round(cfg.warmup_epochs * self.steps_per_epoch))
        if cfg.name == "onecycle" and self.warmup == 0:
            self.warmup = int(0.3 * self.total)  # one-cycle's usual 30% ramp
        self.plateau_scale = 1.0
        self.plateau_best: float | None = None
        self.plateau_bad = 0

    def factor(self, step: int) -> float:
        cfg = self.cfg
        if step < self.warmup:
            start = 1 / 25 if cfg.name == "onecycle" else 0.1
            return start + (1 - start) * step / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        if cfg.name in ("cosine", "onecycle"):
            low = float(cfg.min_lr_ratio)
            return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))
        if cfg.name == "step":
            return float(cfg.gamma ** ((step // self.steps_per_epoch) // cfg.step_epochs))
        return 1.0  # constant, plateau

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every group's lr for this step; returns the first group's lr."""
        scale = self.factor(step) * self.plateau_scale
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * scale
        return float(optimizer.param_groups[0]["lr"])

    def epoch_end(self, val_loss: float) -> bool:
        """Reduce-on-plateau bookkeeping; True when the lr was just reduced."""
        if self.cfg.name != "plateau" or not math.isfinite(val_loss):
            return False
        if self.plateau_best is None or val_loss < self.plateau_best - 1e-12:
            self.plateau_best, self.plateau_bad = val_loss, 0
            return False
        self.plateau_bad += 1
        if self.plateau_bad > self.cfg.patience:
            self.plateau_scale *= self.cfg.factor
            self.plateau_bad = 0
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"plateau_scale": self.plateau_scale, "plateau_best": self.plateau_best,
                "plateau_bad": self.plateau_bad}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plateau_scale = state["plateau_scale"]
        self.plateau_best = state["plateau_best"]
        self.plateau_bad = state["plateau_bad"]
