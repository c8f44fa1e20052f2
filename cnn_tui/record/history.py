"""What a run did, from its events and summary.json: the facts `show` prints and charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.events import (
    Diagnosis,
    EpochEnd,
    Event,
    Image,
    PhaseChanged,
    RunFinished,
    RunStarted,
    Started,
    Step,
    StyleStarted,
    StyleStep,
    System,
    TestScore,
)
from cnn_tui.rundir import read_summary

Series = tuple[list[float], list[float]]
MAX_STEPS = 8000  # step events kept while following a run for days: every other one goes when full


@dataclass
class RunHistory:
    run_dir: Path
    summary: dict[str, Any] | None = None
    started: Started | None = None  # the first segment's start (resumed segments follow it)
    segments: int = 0
    finished: RunFinished | None = None  # the latest segment's end
    epochs: list[EpochEnd] = field(default_factory=list)
    steps: list[Step | StyleStep] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    test: TestScore | None = None
    phases: list[PhaseChanged] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    system: System | None = None  # the latest machine sample
    data_waits: list[float] = field(default_factory=list)  # every sample's data-wait share
    last_t: float = 0.0

    @property
    def is_style(self) -> bool:
        return isinstance(self.started, StyleStarted)

    @property
    def classification(self) -> RunStarted | None:
        return self.started if isinstance(self.started, RunStarted) else None

    def add(self, event: Event) -> None:
        self.last_t = max(self.last_t, event.t)
        if isinstance(event, Started):
            self.started = self.started or event
            self.segments += 1
            self.finished = None
        elif isinstance(event, Step | StyleStep):
            self.steps.append(event)
            if len(self.steps) > MAX_STEPS:
                del self.steps[-2::-2]  # every other one but the newest: the whole run stays covered
        elif isinstance(event, EpochEnd):
            self.epochs.append(event)
        elif isinstance(event, Diagnosis):
            if all((d.code, d.message) != (event.code, event.message) for d in self.diagnoses):
                self.diagnoses.append(event)
        elif isinstance(event, RunFinished):
            self.finished = event
        elif isinstance(event, TestScore):
            self.test = event
        elif isinstance(event, PhaseChanged):
            self.phases.append(event)
        elif isinstance(event, Image):
            self.images.append(event)
        elif isinstance(event, System):
            self.system = event
            self.data_waits.append(event.data_wait)

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
