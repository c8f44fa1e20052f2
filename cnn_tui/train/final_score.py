"""The final test score, and the one rule for which weights a run keeps (the test score and
`cnn-tui predict` both use it): after early stopping with `restore_best`, the restored weights
(saved as last.pt); otherwise best.pt, by `train.checkpoint.monitor`; with no checkpoint (a dry
run), the final weights. The classification kind runs it once training has ended (train/kind.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch.nn as nn

from cnn_tui.contract.events import Event, TestScore
from cnn_tui.train.checkpoint import load_checkpoint

Scores = tuple[float, float, float, list[tuple[int, int]]]


def kept_checkpoint(checkpoint_dir: Path, status: str, restored: bool) -> Path | None:
    names = ("last.pt", "best.pt") if status == "early_stopped" and restored else ("best.pt", "last.pt")
    return next((checkpoint_dir / n for n in names if (checkpoint_dir / n).is_file()), None)


def score_test_split(model: nn.Module, score_test: Callable[[], Scores], checkpoint_dir: Path | None, status: str,
                     restored_epoch: int | None, epoch: int, monitor: str, class_names: list[str],
                     emit: Callable[[Event], None]) -> dict[str, Any]:
    """Put the kept weights in `model` and score them on the test split, once, after training.
    `restored_epoch`: the epoch whose weights early stopping put back (None if it did not)."""
    weights = "the final weights"
    path = kept_checkpoint(checkpoint_dir, status, restored_epoch is not None) if checkpoint_dir else None
    if restored_epoch is not None:
        epoch = restored_epoch
        weights = f"the weights restored by early stopping (epoch {epoch})"
    elif path is not None and path.name == "best.pt":
        state = load_checkpoint(path)
        model.load_state_dict(state["model"])
        epoch = state["position"]["epoch"]
        weights = f"best.pt (epoch {epoch}, best {monitor})"
    loss, correct, count, pairs = score_test()
    metrics = {"test/loss": loss / max(count, 1), "test/acc": correct / max(count, 1)}
    per_class = {name: hit / n for name, (hit, n) in zip(class_names, pairs) if n}
    emit(TestScore(metrics=metrics, per_class=per_class, count=int(count), weights=weights, epoch=epoch))
    return {**metrics, "per_class_acc": per_class, "images": int(count), "weights": weights, "epoch": epoch}
