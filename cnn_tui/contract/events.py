"""The typed event stream every consumer reads: printer, run-directory writer, dashboard.

Events are frozen dataclasses. On the wire (events.jsonl, or a pipe to the dashboard)
each is one JSON line: {"v": 2, "type": "<name>", "t": <unix time>, ...fields}.
Readers tolerate a torn last line and unknown event types, so old dashboards can read
new runs and a run killed mid-write stays readable; `EventReader` upgrades version 1
streams (style transfer then borrowed the classification events) so old runs still open.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cnn_tui.contract.status import Severity, Status

WIRE_VERSION = 2  # 2: style transfer has StyleStarted/StyleStep of its own (1 borrowed RunStarted/Step)


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


@dataclass(frozen=True, kw_only=True)
class Started(Event):
    """What every kind's first event (of a run, and of each resumed segment) says."""

    run_id: str
    recipe_name: str
    kind: str
    device: str
    device_name: str
    total_steps: int
    model_name: str
    layers: list[dict[str, Any]]
    total_params: int
    trainable_params: int
    start_step: int = 0
    resumed: bool = False
    world_size: int = 1  # processes training data-parallel (torch.distributed); 1: a single process


@dataclass(frozen=True, kw_only=True)
class RunStarted(Started):
    """A classification run starts: its data and its epochs."""

    type: ClassVar[str] = "run_started"
    epochs: int
    steps_per_epoch: int
    batch_size: int
    num_train: int
    num_val: int
    num_classes: int
    class_names: list[str]
    start_epoch: int = 0
    num_test: int = 0  # images held out for the final test score (0: no test split)


@dataclass(frozen=True, kw_only=True)
class StyleStarted(Started):
    """A style transfer starts: one image optimised for `total_steps` steps, coarse to fine."""

    type: ClassVar[str] = "style_started"
    width: int  # px of the output image (the content image's size)
    height: int
    levels: list[int] = field(default_factory=list)  # long side of each level, px (one entry: one size)


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
class StyleStep(Event):
    """The losses of the image being optimised (loss/total, loss/content, loss/style, loss/tv...)."""

    type: ClassVar[str] = "style_step"
    step: int
    metrics: dict[str, float]
    steps_per_sec: float = 0.0  # optimiser steps (each ~2 loss evaluations with L-BFGS)
    memory_mb: float = 0.0


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
class Health(Event):
    """Activations and weights, per layer, at the gradient cadence (step = the step measured).

    dead: ReLU layers -> share of units (a conv's channels, a linear layer's features) that are zero
    at every position for every image of the batch; saturated: sigmoid/tanh layers -> share of
    outputs within 1% of their limits;
    weights/grads: layer -> the values at `levels` (quantiles of a fixed sample of its weight).
    spectrum: activation layer -> a histogram of its outputs over `ranges[layer]` = [low, high] in
    equal bins, bottom bin first, each bin's count log-scaled to 0..99 (99: every output is in this
    bin); values past the range count in the end bins. Empty in runs written before it existed.
    """

    type: ClassVar[str] = "health"
    step: int
    epoch: int
    dead: dict[str, float]
    saturated: dict[str, float]
    levels: list[float]
    weights: dict[str, list[float]]
    grads: dict[str, list[float]]
    spectrum: dict[str, list[int]] = field(default_factory=dict)
    ranges: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class System(Event):
    """What the machine does for the run, every few seconds: the training process's CPU (percent of
    one core, its data-loading workers included) and resident memory, the GPU's utilisation, memory
    and temperature (None where there is no GPU, or no NVML to ask), and the share of the wall time
    since the last sample that the loop spent waiting for its next batch."""

    type: ClassVar[str] = "system"
    step: int
    epoch: int
    cpu_percent: float
    cpu_cores: int
    rss_mb: float
    workers: int  # the process's children (DataLoader workers) counted in cpu_percent and rss_mb
    data_wait: float  # 0..1
    gpu_name: str | None = None
    gpu_util: float | None = None  # percent (NVML)
    gpu_mem_mb: float | None = None  # used (NVML), else what torch has reserved
    gpu_mem_total_mb: float | None = None
    gpu_temp_c: float | None = None


@dataclass(frozen=True)
class Confusion(Event):
    """The validation set's confusion matrix after an epoch, and its most confident mistakes.

    matrix[t][p]: images of true class t predicted as p (rows sum to each class's support; the
    diagonal over the total is val/acc); [] above confusion.MAX_GRID_CLASSES classes, where `pairs`
    (true, predicted, count) of the most frequent mistakes stand for it. per_class: name ->
    precision, recall, f1, support.
    mistakes: {"path" (PNG in the run dir, or ""), "true", "predicted", "confidence"}, most confident first.
    """

    type: ClassVar[str] = "confusion"
    epoch: int
    step: int
    classes: list[str]
    matrix: list[list[int]]
    per_class: dict[str, dict[str, float]]
    pairs: list[list[int]] = field(default_factory=list)
    mistakes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FeatureMaps(Event):
    """What the network sees after an epoch: one fixed validation image, the activations of chosen
    layers as grids of small maps, and the first layer's filters (all PNGs in the run dir)."""

    type: ClassVar[str] = "feature_maps"
    epoch: int
    step: int
    input: str  # the probe image, relative to the run dir
    label: str  # its true class
    predicted: str
    layers: list[dict[str, Any]]  # {"name", "path", "shown" (maps drawn), "channels", "size": [h, w]}
    filters: str = ""  # the first conv layer's filters ("" when not drawn)
    filters_layer: str = ""
    # what a deep layer's first channels want to see (activation maximisation; the last epoch's, and
    # `cnn-tui views`): {"name", "path", "channels"}
    wants: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class GradCam(Event):
    """Where the network looked (Grad-CAM), after an epoch or for a probe chosen with `cnn-tui views`:
    the probe and each of the worst mistakes with the heat of its predicted class over it.

    pictures: {"path" (PNG in the run dir), "role" ("probe" | "shifted" | "mistake"), "true" ("" when
    unknown), "predicted", "confidence"}; note: why there is none, in one line ("" when drawn)."""

    type: ClassVar[str] = "gradcam"
    epoch: int
    step: int
    layer: str  # the map the heat comes from
    pictures: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Embedding(Event):
    """The validation set's penultimate features in 2-D (their first two principal components),
    coloured by class, mistakes marked (a PNG); silhouette: how well the classes separate in the
    full feature space (-1..1, higher is better; None when it cannot be measured)."""

    type: ClassVar[str] = "embedding"
    epoch: int
    step: int
    path: str = ""
    silhouette: float | None = None
    points: int = 0
    explained: float = 0.0  # share of the features' variance the two components keep
    classes: list[str] = field(default_factory=list)  # the classes drawn, in their colours' order
    note: str = ""
    # the run's end repeats its last epoch's event with the same points by t-SNE (or why not)
    tsne: str = ""  # its picture, beside `path`
    tsne_points: int = 0
    tsne_seconds: float = 0.0
    tsne_note: str = ""


@dataclass(frozen=True)
class TopPatches(Event):
    """What each unit responds to (Zeiler & Fergus fig. 2): per layer, the validation patches (each
    unit's receptive field) that activate its first channels most, one row of patches per channel."""

    type: ClassVar[str] = "top_patches"
    epoch: int
    step: int
    layers: list[dict[str, Any]] = field(default_factory=list)  # {"name", "path", "channels", "shown", "field"}
    note: str = ""


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
    severity: Severity
    message: str
    step: int
    epoch: int

    def __post_init__(self) -> None:  # read back from JSON as a plain string (ValueError: a foreign line)
        object.__setattr__(self, "severity", Severity(self.severity))


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
    reason: str  # "last" | "best" | "interrupt" | "final" | "requested" (cnn-tui checkpoint)


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
    """The run was paused or resumed from the control channel (the loop really stopped or went on)."""

    type: ClassVar[str] = "state"
    state: str  # "running" | "paused" | "stopping"
    step: int = 0  # where it happened (0 in runs written before it was recorded)


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
    status: Status
    reason: str
    step: int
    epoch: int
    wall_seconds: float
    best: dict[str, float]
    final: dict[str, float]

    def __post_init__(self) -> None:  # read back from JSON as a plain string (ValueError: a foreign line)
        object.__setattr__(self, "status", Status(self.status))


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (RunStarted, StyleStarted, Step, StyleStep, EpochEnd, Gradients, Health, System, Confusion,
                FeatureMaps, GradCam, Embedding, TopPatches, Image, Diagnosis, Log, CheckpointSaved, PhaseChanged,
                StateChanged, TestScore, RunFinished)
}


# each class's field names, once: dataclasses.fields() on every line was a tenth of reading a long run
_FIELD_NAMES = {cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()}


def event_from_dict(data: dict[str, Any]) -> Event | None:
    """Rebuild an event; None for unknown types or newer wire versions we cannot read."""
    cls = EVENT_TYPES.get(data.get("type", ""))
    version = data.get("v", WIRE_VERSION)
    if cls is None or not isinstance(version, int) or version > WIRE_VERSION:
        return None  # a "v" that is no number is a foreign line, not a crash
    names = _FIELD_NAMES[cls]
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except (TypeError, ValueError):  # missing fields, or a status/severity this version does not know
        return None
