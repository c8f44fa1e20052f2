"""Everything the run screen shows, folded from events. Bounded: series are bucketed,
logs and diagnoses are capped, so memory stays flat over any run length.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cnn_tui.events import (
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
    RunStarted,
    Started,
    StateChanged,
    Step,
    StyleStarted,
    StyleStep,
    System,
    TestScore,
    TopPatches,
)
from cnn_tui.progress import eta_seconds, steps_per_second
from cnn_tui.ui.series import BucketedSeries
from cnn_tui.wording import where_trained

MAX_GRAD_LAYERS = 64  # per-layer series kept; bars show the latest for every layer
WALL = "_wall_seconds"  # the series of seconds since the start, by step
SYSTEM_SAMPLES = 120  # recent machine samples kept for the System pane's sparklines (4 min at 2 s)
SPREAD = (1, 2, 3, 4, 5)  # indices into Health.levels kept over time: 5%, 25%, median, 75%, 95%


@dataclass
class RunState:
    started: Started | None = None
    finished: RunFinished | None = None
    test: TestScore | None = None  # the kept checkpoint's score on the test split, at the end
    status: str = "waiting"  # waiting, running, paused, stopping, + RunFinished statuses, crashed, lost
    lost_line: str = ""  # a lost run: when it last wrote and how to resume it (record.liveness)
    notice: str = ""  # one line for the status bar: a control command the run could not take
    step: int = 0
    epoch: int = 0
    images_per_sec: float = 0.0  # classification only
    steps_per_sec: float = 0.0
    eta: float | None = None  # seconds, at this segment's average speed (cnn_tui.progress)
    memory_mb: float = 0.0
    lr: float | None = None
    best_epoch: int | None = None
    series: dict[str, BucketedSeries] = field(default_factory=dict)
    grad_series: dict[str, BucketedSeries] = field(default_factory=dict)
    grad_latest: dict[str, float] = field(default_factory=dict)
    grad_order: list[str] = field(default_factory=list)  # layers in model order, latest tick
    ratio_latest: dict[str, float] = field(default_factory=dict)
    epochs: list[EpochEnd] = field(default_factory=list)
    phases: list[PhaseChanged] = field(default_factory=list)
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
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def _start(self, e: Started, epoch: int) -> None:
        self.started, self.finished, self.test, self.eta = e, None, None, None
        self.layers = [dict(row) for row in e.layers]
        self.status, self.step, self.epoch = "running", e.start_step, epoch
        self.log("info", f"{'resumed' if e.resumed else 'started'} {e.recipe_name} on {where_trained(e)}")

    def _on_run_started(self, e: RunStarted) -> None:
        self._start(e, e.start_epoch)

    def _on_style_started(self, e: StyleStarted) -> None:
        self._start(e, 0)

    def _progress(self, e: Step | StyleStep) -> None:
        self.step, self.memory_mb = e.step, e.memory_mb
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

    def _on_step(self, e: Step) -> None:
        self._progress(e)
        self.epoch, self.images_per_sec = e.epoch, e.images_per_sec
        self.lr = e.metrics.get("lr", self.lr)

    def _on_style_step(self, e: StyleStep) -> None:
        self._progress(e)

    def _on_epoch(self, e: EpochEnd) -> None:
        self.epochs.append(e)
        self.epoch, self.step = e.epoch, e.step
        if e.is_best:
            self.best_epoch = e.epoch
        for name, value in e.metrics.items():
            if name.startswith("val/"):
                self.series_for(name).append(e.step, value)
            elif name.startswith("train/"):
                self.series_for(f"epoch:{name}").append(e.step, value)

    def _on_phase(self, e: PhaseChanged) -> None:
        if not self.phases or self.phases[-1].index != e.index:
            self.phases.append(e)
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

    def _on_system(self, e: System) -> None:
        self.system = e
        self.system_history.append(e)

    def health_layers(self) -> list[str]:
        """Layers with a weight distribution over time, in model order."""
        return [key.split("|", 1)[1] for key in self.health_series if key.startswith(f"w{SPREAD[0]}|")]

    def _on_confusion(self, e: Confusion) -> None:
        self.confusion = e

    def _on_feature_maps(self, e: FeatureMaps) -> None:
        self.feature_maps = e

    def _on_gradcam(self, e: GradCam) -> None:
        self.gradcam = e

    def _on_embedding(self, e: Embedding) -> None:
        self.embedding = e
        if e.silhouette is not None:
            self.silhouettes.append((e.epoch, e.silhouette))

    def _on_top_patches(self, e: TopPatches) -> None:
        self.top_patches = e

    def _on_image(self, e: Image) -> None:
        """Only the newest picture per role is kept: the files stay in the run directory."""
        self.images["latest" if e.tag in ("init", "snapshot", "final") else e.tag] = e

    def _on_diagnosis(self, e: Diagnosis) -> None:
        self.diagnoses.append(e)
        self.log(e.severity, e.message)

    def _on_log(self, e: Log) -> None:
        for line in e.message.rstrip().splitlines()[-20:]:
            self.log(e.level, line)

    def _on_state(self, e: StateChanged) -> None:
        if self.finished is None:
            self.status = e.state
        self.log("info", f"run {e.state}")

    def _on_checkpoint(self, e: CheckpointSaved) -> None:
        if e.reason == "interrupt":
            self.log("info", f"saved checkpoint at step {e.step}")

    def _on_test(self, e: TestScore) -> None:
        self.test = e

    def _on_finished(self, e: RunFinished) -> None:
        self.finished, self.status = e, e.status
        self.step = e.step  # steps after the last logged one count too (an interrupt saves there)
        self.log("error" if e.status in ("diverged", "failed") else "info", f"{e.status}: {e.reason}")

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
            self.diagnoses.append(Diagnosis(code=code, severity="error", message=message,
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
    def best_metrics(self) -> dict[str, float] | None:
        for e in reversed(self.epochs):
            if e.epoch == self.best_epoch:
                return e.metrics
        return None

    @property
    def total_steps(self) -> int:
        return self.started.total_steps if self.started else 0

    @property
    def eta_seconds(self) -> float | None:
        return self.eta if self.live else None
