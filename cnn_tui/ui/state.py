"""Everything the run screen shows, folded from events. Bounded: series are bucketed,
logs and diagnoses are capped, so memory stays flat over any run length.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cnn_tui.contract.events import (
    CheckpointSaved,
    Confusion,
    Diagnosis,
    Embedding,
    EpochEnd,
    Event,
    FeatureMaps,
    GradCam,
    Gradients,
    Health,
    Image,
    Log,
    PhaseChanged,
    RunFinished,
    Started,
    StateChanged,
    Step,
    StyleStep,
    System,
    TopPatches,
)
from cnn_tui.contract.progress import eta_seconds, steps_per_second
from cnn_tui.contract.status import Severity
from cnn_tui.contract.wording import where_trained
from cnn_tui.record.fold import RunFold
from cnn_tui.ui.series import BucketedSeries
from cnn_tui.ui.spectrum import ActivationStrip

MAX_GRAD_LAYERS = 64  # per-layer series kept; bars show the latest for every layer
WALL = "_wall_seconds"  # the series of seconds since the start, by step
SYSTEM_SAMPLES = 120  # recent machine samples kept for the System pane's sparklines (4 min at 2 s)
SPREAD = (1, 2, 3, 4, 5)  # indices into Health.levels kept over time: 5%, 25%, median, 75%, 95%


@dataclass
class RunState(RunFold):
    """The fold (record.fold) plus what only the dashboard shows."""

    status: str = "waiting"  # waiting, running, paused, stopping, + RunFinished statuses, crashed, lost
    lost_line: str = ""  # a lost run: when it last wrote and how to resume it (record.liveness)
    notice: str = ""  # one line for the status bar: a control command the run could not take
    images_per_sec: float = 0.0  # classification only
    steps_per_sec: float = 0.0
    eta: float | None = None  # seconds, at this segment's average speed (cnn_tui.contract.progress)
    memory_mb: float = 0.0
    lr: float | None = None
    series: dict[str, BucketedSeries] = field(default_factory=dict)
    grad_series: dict[str, BucketedSeries] = field(default_factory=dict)
    grad_latest: dict[str, float] = field(default_factory=dict)
    grad_order: list[str] = field(default_factory=list)  # layers in model order, latest tick
    ratio_latest: dict[str, float] = field(default_factory=dict)
    layers: list[dict[str, Any]] = field(default_factory=list)  # the model table, trainability kept current
    diagnoses: deque[Diagnosis] = field(default_factory=lambda: deque(maxlen=50))
    logs: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=500))
    log_total: int = 0  # lines ever logged (the deque keeps the last 500)
    images: dict[str, Image] = field(default_factory=dict)  # style transfer: content, style, latest
    feature_maps: FeatureMaps | None = None  # the latest epoch's pictures of the model's inside
    confusion: Confusion | None = None
    gradcam: GradCam | None = None  # where the network looked: the latest epoch's, or a probe chosen later
    embedding: Embedding | None = None  # the latest 2-D map of the penultimate features
    silhouettes: list[tuple[int, float]] = field(default_factory=list)  # (epoch, silhouette) of each map
    top_patches: TopPatches | None = None
    health: Health | None = None  # the latest tick's; the medians over time are in health_series
    health_series: dict[str, BucketedSeries] = field(default_factory=dict)  # "weight|grad <layer>" -> spread
    spectra: dict[str, ActivationStrip] = field(default_factory=dict)  # activations over time, per layer
    system: System | None = None  # the latest machine sample (CPU, memory, GPU, data wait)
    system_history: deque[System] = field(default_factory=lambda: deque(maxlen=SYSTEM_SAMPLES))
    first_metrics: dict[str, float] = field(default_factory=dict)  # the run's first step event
    start_t: float | None = None  # when the run's first segment started (a wall-time axis counts from it)
    version: int = 0  # bumped on every change: the screen redraws only when it moved

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))
        self.log_total += 1

    def series_for(self, name: str) -> BucketedSeries:
        if name not in self.series:
            self.series[name] = BucketedSeries()
        return self.series[name]

    def ingest(self, event: Event) -> None:
        self.version += 1
        self.fold(event)
        match event:
            case Started():
                self._start(event)
            case Step():
                self._progress(event)
                self.images_per_sec = event.images_per_sec
                self.lr = event.metrics.get("lr", self.lr)
            case StyleStep():
                self._progress(event)
            case EpochEnd():
                self._on_epoch(event)
            case PhaseChanged():
                self._on_phase(event)
            case Gradients():
                self._on_gradients(event)
            case Health():
                self._on_health(event)
            case System():
                self.system = event
                self.system_history.append(event)
            case Confusion():
                self.confusion = event
            case FeatureMaps():
                self.feature_maps = event
            case GradCam():
                self.gradcam = event
            case Embedding():
                self._on_embedding(event)
            case TopPatches():
                self.top_patches = event
            case Image():  # only the newest picture per role is kept: the files stay in the run directory
                self.images["latest" if event.tag in ("init", "snapshot", "final") else event.tag] = event
            case Diagnosis():
                self.diagnoses.append(event)
                self.log(event.severity, event.message)
            case Log():
                for line in event.message.rstrip().splitlines()[-20:]:
                    self.log(event.level, line)
            case StateChanged():
                if self.finished is None:
                    self.status = event.state
                self.log("info", f"run {event.state}")
            case CheckpointSaved():
                if event.reason == "interrupt":
                    self.log("info", f"saved checkpoint at step {event.step}")
            case RunFinished():
                self.status = event.status
                self.log(Severity.ERROR if event.status.is_error else Severity.INFO, f"{event.status}: {event.reason}")

    def _start(self, e: Started) -> None:
        self.eta = None
        self.layers = [dict(row) for row in e.layers]
        self.status = "running"
        self.log("info", f"{'resumed' if e.resumed else 'started'} {e.recipe_name} on {where_trained(e)}")

    def _progress(self, e: Step | StyleStep) -> None:
        self.memory_mb = e.memory_mb
        if self.start_t is None:
            self.start_t = self.started.t if self.started is not None else e.t
        self.series_for(WALL).append(e.step, e.t - self.start_t)  # step -> seconds, for a wall-time x axis
        if self.started is not None:
            self.steps_per_sec = steps_per_second(self.started, e)
            self.eta = eta_seconds(self.started, e)
        if not self.first_metrics:
            self.first_metrics = dict(e.metrics)
        for name, value in e.metrics.items():
            self.series_for(name).append(e.step, value)

    def _on_epoch(self, e: EpochEnd) -> None:
        for name, value in e.metrics.items():
            if name.startswith("val/"):
                self.series_for(name).append(e.step, value)
            elif name.startswith("train/"):
                self.series_for(f"epoch:{name}").append(e.step, value)

    def _on_phase(self, e: PhaseChanged) -> None:
        unfrozen = tuple(f"base.blocks.{name}." for name in e.unfrozen)
        for row in self.layers:
            if row["name"].startswith("base.blocks."):
                row["trainable"] = row["params"] if row["name"].startswith(unfrozen) else 0

    @property
    def markers(self) -> list[tuple[float, str]]:
        """Phase changes after the start, drawn as dotted lines on the curves."""
        return [(p.step, p.name) for p in self.phases if p.step > 0]

    def _on_gradients(self, e: Gradients) -> None:
        self.grad_latest, self.ratio_latest = dict(e.norms), dict(e.update_ratios)
        self.grad_order = list(e.norms)
        for name, value in e.norms.items():
            if name in self.grad_series or len(self.grad_series) < MAX_GRAD_LAYERS:
                if name not in self.grad_series:
                    self.grad_series[name] = BucketedSeries(capacity=400)
                self.grad_series[name].append(e.step, value)

    def _on_health(self, e: Health) -> None:
        self.health = e
        for layer, levels in e.weights.items():
            if f"w2|{layer}" in self.health_series or len(self.health_series) < MAX_GRAD_LAYERS * len(SPREAD):
                for i in SPREAD:
                    self.health_series.setdefault(f"w{i}|{layer}", BucketedSeries(capacity=400)).append(
                        e.step, levels[i])
        for layer, bins in e.spectrum.items():
            if layer in self.spectra or len(self.spectra) < MAX_GRAD_LAYERS:
                low, high = e.ranges.get(layer, (0.0, 1.0))
                self.spectra.setdefault(layer, ActivationStrip()).append(bins, low, high)

    def health_layers(self) -> list[str]:
        """Layers with a weight distribution over time, in model order."""
        return [key.split("|", 1)[1] for key in self.health_series if key.startswith(f"w{SPREAD[0]}|")]

    def _on_embedding(self, e: Embedding) -> None:
        self.embedding = e
        if self.silhouettes and self.silhouettes[-1][0] == e.epoch:
            self.silhouettes.pop()  # the run's end repeats its last epoch (with the t-SNE): one score an epoch
        if e.silhouette is not None and e.epoch > 0:  # epoch 0: `cnn-tui views` on the kept checkpoint
            self.silhouettes.append((e.epoch, e.silhouette))

    def crashed(self, message: str) -> None:
        """The training process died without a RunFinished event."""
        self._ended_unfinished("crashed", "crash", message)

    def lost(self, line: str) -> None:
        """A followed run's writer is gone without a RunFinished event (SIGKILL, the OOM killer, a reboot)."""
        self.lost_line = line
        self._ended_unfinished("lost", "lost", line)

    def _ended_unfinished(self, status: str, code: str, message: str) -> None:
        self.version += 1
        if self.finished is None:
            self.status = status
            self.log("error", message)
            self.diagnoses.append(Diagnosis(code=code, severity=Severity.ERROR, message=message,
                                            step=self.step, epoch=self.epoch))

    def tell(self, notice: str) -> None:
        """Show one line in the status bar ("" clears it)."""
        self.notice = notice
        self.version += 1

    # ------------------------------------------------------------------ derived
    @property
    def live(self) -> bool:
        return self.status in ("waiting", "running", "paused", "stopping")

    @property
    def eta_seconds(self) -> float | None:
        return self.eta if self.live else None
