"""The one fold of a run's event stream: the facts every reader of a run needs, kept the same
way by `show` (record.history), the headless printer and the dashboard's state (ui.state),
each of which adds only what it alone shows.

Dispatch is by event class (`match`), so mypy sees each handler's event type and a renamed
event cannot silently lose its handler. Torch-free: reading a run costs no torch import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnn_tui.contract.events import (
    EpochEnd,
    Event,
    PhaseChanged,
    RunFinished,
    RunStarted,
    Started,
    Step,
    StyleStep,
    TestScore,
)


@dataclass(kw_only=True)
class RunFold:
    first: Started | None = None  # the first segment's start (wall time counts from it)
    started: Started | None = None  # the latest segment's start (a resumed run starts again)
    segments: int = 0
    finished: RunFinished | None = None  # the latest segment's end; None while it runs
    test: TestScore | None = None  # the kept checkpoint's score on the test split, at the end
    step: int = 0
    epoch: int = 0
    epochs: list[EpochEnd] = field(default_factory=list)
    best_epoch: int | None = None
    phases: list[PhaseChanged] = field(default_factory=list)  # fine-tuning phases, each once
    last_t: float = 0.0  # the newest event's time

    def fold(self, event: Event) -> None:
        self.last_t = max(self.last_t, event.t)
        match event:
            case Started():
                self.first = self.first or event
                self.started, self.finished, self.test = event, None, None
                self.segments += 1
                self.step = event.start_step
                self.epoch = event.start_epoch if isinstance(event, RunStarted) else 0
            case Step():
                self.step, self.epoch = event.step, event.epoch
            case StyleStep():
                self.step = event.step
            case EpochEnd():
                self.epochs.append(event)
                self.epoch, self.step = event.epoch, event.step
                if event.is_best:
                    self.best_epoch = event.epoch
            case PhaseChanged():
                if not self.phases or self.phases[-1].index != event.index:  # a resumed segment repeats it
                    self.phases.append(event)
            case TestScore():
                self.test = event
            case RunFinished():
                self.finished = event
                self.step = event.step  # steps after the last logged one count too (an interrupt saves there)

    @property
    def best_metrics(self) -> dict[str, float] | None:
        for e in reversed(self.epochs):
            if e.epoch == self.best_epoch:
                return e.metrics
        return None

    @property
    def total_steps(self) -> int:
        return self.started.total_steps if self.started else 0
