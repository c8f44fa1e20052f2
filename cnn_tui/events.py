"""The typed event stream every consumer reads: printer, run-directory writer, dashboard.

Events are frozen dataclasses. On the wire (events.jsonl, or a pipe to the dashboard)
each is one JSON line: {"v": 1, "type": "<name>", "t": <unix time>, ...fields}.
Readers tolerate a torn last line and unknown event types, so old dashboards can read
new runs and a run killed mid-write stays readable.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

WIRE_VERSION = 1


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    t: float = field(default_factory=time.time, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        data = {"v": WIRE_VERSION, "type": self.type}
        data.update(dataclasses.asdict(self))
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=True)


@dataclass(frozen=True)
class RunStarted(Event):
    """First event of a run (and of each resumed segment of it)."""

    type: ClassVar[str] = "run_started"
    run_id: str
    recipe_name: str
    kind: str
    device: str
    device_name: str
    epochs: int
    steps_per_epoch: int
    total_steps: int
    batch_size: int
    num_train: int
    num_val: int
    num_classes: int
    class_names: list[str]
    model_name: str
    layers: list[dict[str, Any]]
    total_params: int
    trainable_params: int
    start_step: int = 0
    start_epoch: int = 0
    resumed: bool = False
    num_test: int = 0  # images held out for the final test score (0: no test split)


@dataclass(frozen=True)
class Step(Event):
    """Training metrics averaged over the last few steps (emitted every `log.every_steps`)."""

    type: ClassVar[str] = "step"
    step: int
    epoch: int
    metrics: dict[str, float]
    images_per_sec: float = 0.0
    memory_mb: float = 0.0  # accelerator memory in use, or resident memory on CPU


@dataclass(frozen=True)
class EpochEnd(Event):
    """End-of-epoch metrics: train/loss, train/acc, val/loss, val/acc, lr."""

    type: ClassVar[str] = "epoch"
    epoch: int
    step: int
    metrics: dict[str, float]
    seconds: float
    is_best: bool = False


@dataclass(frozen=True)
class Gradients(Event):
    """Per-layer gradient norms and update-to-weight ratios, in layer order (input first)."""

    type: ClassVar[str] = "gradients"
    step: int
    epoch: int
    norms: dict[str, float]
    update_ratios: dict[str, float]


@dataclass(frozen=True)
class Image(Event):
    """An image written into the run directory (style-transfer snapshots)."""

    type: ClassVar[str] = "image"
    step: int
    path: str
    tag: str = "snapshot"


@dataclass(frozen=True)
class Diagnosis(Event):
    """A plain-language reading of the curves, e.g. 'overfitting since epoch 7'."""

    type: ClassVar[str] = "diagnosis"
    code: str
    severity: str  # "info" | "warning" | "error"
    message: str
    step: int
    epoch: int


@dataclass(frozen=True)
class Log(Event):
    """A message for the log pane / stderr."""

    type: ClassVar[str] = "log"
    level: str
    message: str


@dataclass(frozen=True)
class CheckpointSaved(Event):
    type: ClassVar[str] = "checkpoint"
    path: str
    step: int
    epoch: int
    reason: str  # "last" | "best" | "interrupt" | "final"


@dataclass(frozen=True)
class PhaseChanged(Event):
    """A fine-tuning phase began: which base blocks were unfrozen, how much now trains."""

    type: ClassVar[str] = "phase"
    index: int
    name: str
    epoch: int
    step: int
    unfrozen: list[str]
    trainable_params: int
    lr: float


@dataclass(frozen=True)
class StateChanged(Event):
    """The run was paused or resumed from the control channel."""

    type: ClassVar[str] = "state"
    state: str  # "running" | "paused" | "stopping"


@dataclass(frozen=True)
class TestScore(Event):
    """The kept checkpoint scored once on the test split, after training (test/loss, test/acc)."""

    type: ClassVar[str] = "test"
    __test__: ClassVar[bool] = False  # not a pytest test class
    metrics: dict[str, float]
    per_class: dict[str, float]  # class name -> accuracy on its test images
    count: int  # test images scored
    weights: str  # which weights were scored, e.g. "best.pt (epoch 7)"
    epoch: int


@dataclass(frozen=True)
class RunFinished(Event):
    """Last event of a run segment. status: completed, early_stopped, interrupted, diverged, failed."""

    type: ClassVar[str] = "finished"
    status: str
    reason: str
    step: int
    epoch: int
    wall_seconds: float
    best: dict[str, float]
    final: dict[str, float]


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (RunStarted, Step, EpochEnd, Gradients, Image, Diagnosis, Log,
                CheckpointSaved, PhaseChanged, StateChanged, TestScore, RunFinished)
}
FINISHED_OK = ("completed", "early_stopped")


def event_from_dict(data: dict[str, Any]) -> Event | None:
    """Rebuild an event; None for unknown types or newer wire versions we cannot read."""
    cls = EVENT_TYPES.get(data.get("type", ""))
    if cls is None or data.get("v", WIRE_VERSION) > WIRE_VERSION:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return None


def parse_line(line: str) -> Event | None:
    """One JSON line to an event; None for blank, torn or foreign lines."""
    line = line.strip()
    if not line:
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return event_from_dict(data) if isinstance(data, dict) else None


def parse_lines(lines: Iterable[str]) -> Iterator[Event]:
    for line in lines:
        event = parse_line(line)
        if event is not None:
            yield event
