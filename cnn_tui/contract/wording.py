"""Facts in words that every face prints the same way: the headless printer and the dashboard
both import them from here (neither imports the other)."""

from __future__ import annotations

from cnn_tui.contract.events import Started, TestScore


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


def where_trained(e: Started) -> str:
    """The device in words: 'CPU x86_64 (4 threads of 8)', or a data-parallel run's '2 x CPU', '8 x H100 80GB HBM3'."""
    if e.world_size <= 1:
        return e.device_name
    what = e.device_name.removeprefix("NVIDIA ") if e.device == "cuda" else e.device.upper()
    return f"{e.world_size} x {what}"


def global_batch(batch_size: int, world_size: int) -> str:
    """A step's images: '64', or '64 (2 x 32)' when 2 processes split it."""
    return f"{batch_size} ({world_size} x {batch_size // world_size})" if world_size > 1 else str(batch_size)
