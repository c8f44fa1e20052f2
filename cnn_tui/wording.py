"""Facts in words that every face prints the same way: the headless printer and the dashboard
both import them from here (neither imports the other)."""

from __future__ import annotations

from cnn_tui.events import TestScore


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def format_eta(seconds: float | None) -> str:
    """An ETA, or "?" while the speed is not known yet."""
    return "?" if seconds is None else format_duration(seconds)


def format_test_score(e: TestScore) -> str:
    """The test score in words, with the weakest classes (where a model's mistakes live)."""
    line = (f"Test set ({e.count:,} images never seen in training), scored with {e.weights}: "
            f"accuracy {e.metrics['test/acc']:.2%}, loss {e.metrics['test/loss']:.4f}")
    if len(set(e.per_class.values())) > 1:  # the weakest classes, where some are weaker
        weakest = sorted(e.per_class.items(), key=lambda item: item[1])[:3]
        line += "; weakest: " + ", ".join(f"{name} {acc:.0%}" for name, acc in weakest)
    return line
