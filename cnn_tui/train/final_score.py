"""The final test score, and the one rule for which weights a run keeps (the test score and
`cnn-tui predict` both use it): after early stopping with `restore_best`, the restored weights
(saved as last.pt); otherwise best.pt, by `train.checkpoint.monitor`; with no checkpoint (a dry
run), the final weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_tui.contract.events import TestScore
from cnn_tui.train.checkpoint import load_checkpoint

if TYPE_CHECKING:
    from cnn_tui.train.trainer import Outcome, Trainer


def kept_checkpoint(checkpoint_dir: Path, status: str, restored: bool) -> Path | None:
    names = ("last.pt", "best.pt") if status == "early_stopped" and restored else ("best.pt", "last.pt")
    return next((checkpoint_dir / n for n in names if (checkpoint_dir / n).is_file()), None)


def score_test_split(trainer: Trainer, outcome: Outcome) -> dict[str, Any]:
    """Put the kept weights in the model and score them on the test split, once, after training."""
    restored = trainer.best_weights is not None and outcome.status == "early_stopped"
    epoch, weights = trainer.epoch, "the final weights"
    path = kept_checkpoint(trainer.checkpoint_dir, outcome.status, restored) if trainer.checkpoint_dir else None
    assert trainer.test_batches is not None  # only called for a run with a test split
    if restored and trainer.early is not None and trainer.early.best_epoch is not None:
        epoch = trainer.early.best_epoch
        weights = f"the weights restored by early stopping (epoch {epoch})"
    elif path is not None and path.name == "best.pt":
        state = load_checkpoint(path)
        trainer.model.load_state_dict(state["model"])
        epoch = state["position"]["epoch"]
        weights = f"best.pt (epoch {epoch}, best {trainer.cfg.checkpoint.monitor})"
    loss, correct, count, pairs = trainer.score(trainer.test_batches)
    metrics = {"test/loss": loss / max(count, 1), "test/acc": correct / max(count, 1)}
    per_class = {name: hit / n for name, (hit, n) in zip(trainer.class_names, pairs) if n}
    trainer.emit(TestScore(metrics=metrics, per_class=per_class, count=int(count), weights=weights, epoch=epoch))
    return {**metrics, "per_class_acc": per_class, "images": int(count), "weights": weights, "epoch": epoch}
