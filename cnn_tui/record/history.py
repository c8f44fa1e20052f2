"""What a run did, from its events and summary.json: the facts `show` prints and charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.contract.events import (
    Diagnosis,
    Event,
    Health,
    Image,
    Log,
    RunStarted,
    Step,
    StyleStarted,
    StyleStep,
    System,
)
from cnn_tui.record.fold import RunFold
from cnn_tui.record.rundir import read_summary

Series = tuple[list[float], list[float]]
COMPILE_NOTE = "torch.compile: "  # the log line train/compiled.py writes: what compiling cost the run
MAX_STEPS = 8000  # step events kept while following a run for days: every other one goes when full


@dataclass
class RunHistory(RunFold):
    """The fold (record.fold) plus what `show` charts and lists."""

    run_dir: Path
    summary: dict[str, Any] | None = None
    steps: list[Step | StyleStep] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    system: System | None = None  # the latest machine sample
    data_waits: list[float] = field(default_factory=list)  # every sample's data-wait share
    spectrum_ticks: int = 0  # health ticks that carried activation histograms
    spectrum_layers: list[str] = field(default_factory=list)  # ... and the latest one's layers
    compile_note: str | None = None  # train.compile: what compiling cost (the latest segment's)

    @property
    def is_style(self) -> bool:
        return isinstance(self.first, StyleStarted)

    @property
    def classification(self) -> RunStarted | None:
        return self.first if isinstance(self.first, RunStarted) else None

    def add(self, event: Event) -> None:
        self.fold(event)
        match event:
            case Step() | StyleStep():
                self.steps.append(event)
                if len(self.steps) > MAX_STEPS:
                    del self.steps[-2::-2]  # every other one but the newest: the whole run stays covered
            case Diagnosis():
                if all((d.code, d.message) != (event.code, event.message) for d in self.diagnoses):
                    self.diagnoses.append(event)
            case Image():
                self.images.append(event)
            case System():
                self.system = event
                self.data_waits.append(event.data_wait)
            case Log() if event.message.startswith(COMPILE_NOTE):
                self.compile_note = event.message[len(COMPILE_NOTE):]
            case Health() if event.spectrum:
                self.spectrum_ticks += 1
                self.spectrum_layers = list(event.spectrum)

    def step_series(self, metric: str) -> Series:
        return _finite([(e.step, e.metrics.get(metric, math.nan)) for e in self.steps])

    def epoch_series(self, metric: str) -> Series:
        return _finite([(e.step, e.metrics.get(metric, math.nan)) for e in self.epochs])

    def step_metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for e in self.steps:
            names.update(dict.fromkeys(e.metrics))
        return list(names)


def _finite(points: list[tuple[float, float]]) -> Series:
    kept = [(x, y) for x, y in points if math.isfinite(y)]
    return [x for x, _ in kept], [y for _, y in kept]


def build_history(run_dir: Path, events: list[Event]) -> RunHistory:
    history = RunHistory(run_dir, read_summary(run_dir))
    for event in events:
        history.add(event)
    return history
