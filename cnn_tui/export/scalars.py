"""Every scalar of a run's events.jsonl, read in full, as rows of named tables: one source
for the CSV and the TensorBoard export (which name a scalar the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnn_tui.contract.events import EpochEnd, Event, Gradients, Image, Step, StyleStep, TestScore
from cnn_tui.contract.wire_reader import EventReader
from cnn_tui.record.run_files import check_run_dir, refuse_newer
from cnn_tui.record.rundir import EVENTS

# table -> (its index columns, the TensorBoard tag prefix of its scalars)
TABLES = {
    "steps": (("step", "epoch", "time"), "step/"),  # every log.every_steps steps: train loss/acc, lr, speed
    "epochs": (("epoch", "step", "time"), ""),  # end of each epoch: train and val loss/acc, lr
    "gradients": (("step", "epoch", "time"), ""),  # per-layer gradient norms and update/weight ratios
    "style_steps": (("step", "time"), ""),  # style transfer: content, style, tv and total loss
    "test": (("epoch", "step", "time"), ""),  # the kept checkpoint's test score, once
}


# a name that is no UTF-8 (a class folder named in another encoding reaches the events as lone
# surrogates): written as its escape, `\udcff`, where it used to stop the export with a traceback
NAMES_ERRORS = "backslashreplace"


@dataclass(frozen=True)
class Row:
    table: str
    step: int
    t: float  # unix seconds
    index: dict[str, float]  # the table's index columns
    values: dict[str, float]  # scalar name -> value


def row_of(event: Event, last_step: int) -> Row | None:
    if isinstance(event, Step):
        values = {**event.metrics, "images_per_sec": event.images_per_sec, "memory_mb": event.memory_mb}
        return Row("steps", event.step, event.t, {"step": event.step, "epoch": event.epoch, "time": event.t}, values)
    if isinstance(event, StyleStep):
        values = {**event.metrics, "steps_per_sec": event.steps_per_sec, "memory_mb": event.memory_mb}
        return Row("style_steps", event.step, event.t, {"step": event.step, "time": event.t}, values)
    if isinstance(event, EpochEnd):
        values = {**event.metrics, "epoch_seconds": event.seconds, "is_best": float(event.is_best)}
        return Row("epochs", event.step, event.t, {"epoch": event.epoch, "step": event.step, "time": event.t}, values)
    if isinstance(event, Gradients):
        values = {**{f"grad_norm/{k}": v for k, v in event.norms.items()},
                  **{f"update_ratio/{k}": v for k, v in event.update_ratios.items()}}
        return Row("gradients", event.step, event.t, {"step": event.step, "epoch": event.epoch, "time": event.t},
                   values)
    if isinstance(event, TestScore):
        values = {**event.metrics, "test/images": float(event.count),
                  **{f"test_per_class/{k}": v for k, v in event.per_class.items()}}
        return Row("test", last_step, event.t, {"epoch": event.epoch, "step": last_step, "time": event.t}, values)
    return None


def read_everything(run_dir: Path) -> Iterator[Row | Image]:
    """Rows in file order, and the images (style-transfer snapshots) among them."""
    check_run_dir(run_dir)
    reader = EventReader()
    last_step = 0
    with open(run_dir / EVENTS, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            event = reader.parse_line(line)
            if event is None:
                refuse_newer(run_dir, reader.newer_version)
                continue
            if isinstance(event, Image):
                yield event
                continue
            row = row_of(event, last_step)
            if row is not None:
                last_step = max(last_step, row.step)
                yield row
