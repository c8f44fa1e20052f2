"""Which epoch was best, and early stopping: the monitor behind best.pt (`train.checkpoint.monitor`),
the early-stopping monitor (`train.early_stopping`) and, with `restore_best`, a CPU copy of the
weights of its best epoch, put back into the model when it stops the run."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from cnn_tui.train.monitor import Monitor


class BestKeeper:
    def __init__(self, train: Any) -> None:
        self.best = Monitor(train.checkpoint.monitor, train.checkpoint.mode)
        es = train.early_stopping
        self.early = Monitor(es.monitor, es.mode, es.min_delta, es.patience) if es.enabled else None
        self.restore_best = bool(es.enabled and es.restore_best)
        self.weights: dict[str, torch.Tensor] | None = None  # the early-stopping monitor's best epoch's

    def update(self, metrics: dict[str, float], epoch: int, model: nn.Module) -> bool:
        """Record an epoch; True if it is the best so far (best.pt is then saved)."""
        is_best = self.best.update(metrics, epoch)
        if self.early is not None and self.early.update(metrics, epoch) and self.restore_best:
            self.weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return is_best

    @property
    def stop_now(self) -> bool:
        return self.early is not None and self.early.exhausted

    def stop_message(self, train: Any) -> str:
        """What early stopping says when it stops the run."""
        assert self.early is not None  # only asked when early stopping is on
        es = train.early_stopping
        return (f"Early stopping: {es.monitor} has not improved for {es.patience} epochs "
                f"(best {self.early.best:.4f} at epoch {self.early.best_epoch}).")

    def restore(self, model: nn.Module) -> int | None:
        """Put the early-stopping monitor's best weights back; their epoch, or None if none are kept."""
        if self.weights is None or self.early is None:
            return None
        model.load_state_dict(self.weights)
        return self.early.best_epoch

    def restored_epoch(self, status: str) -> int | None:
        """The epoch whose weights early stopping put back at the end of the run; None if it did not."""
        if status != "early_stopped" or self.weights is None or self.early is None:
            return None
        return self.early.best_epoch

    @property
    def best_epoch(self) -> int | None:
        return self.best.best_epoch

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best.state_dict(), "early": self.early.state_dict() if self.early else None,
                "weights": self.weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best.load_state_dict(state["best"])
        if self.early is not None and state.get("early"):
            self.early.load_state_dict(state["early"])
        self.weights = state.get("weights")
