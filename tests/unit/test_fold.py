"""The typed seams every reader of a run shares: the Status enum (exit codes, "the run is over")
and the one fold of the event stream that show's history, the printer and the dashboard build on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cnn_tui.contract.events import EpochEnd, PhaseChanged, RunFinished, RunStarted, Step, TestScore
from cnn_tui.contract.status import EXIT_CODES, FINISHED_OK, Status, run_is_over
from cnn_tui.contract.wire_reader import parse_line
from cnn_tui.headless.printer import HeadlessPrinter
from cnn_tui.record.history import RunHistory
from cnn_tui.ui.state import RunState


def _started(**changes: object) -> RunStarted:
    fields = dict(run_id="r", recipe_name="tiny", kind="scratch", device="cpu", device_name="cpu", total_steps=10,
                  model_name="m", layers=[], total_params=1, trainable_params=1, epochs=2, steps_per_epoch=5,
                  batch_size=1, num_train=1, num_val=1, num_classes=2, class_names=["a", "b"])
    return RunStarted(**{**fields, **changes})  # type: ignore[arg-type]


def _finished(status: str = "completed", step: int = 10) -> RunFinished:
    return RunFinished(status=status, reason="done", step=step, epoch=2, wall_seconds=1.0,  # type: ignore[arg-type]
                       best={}, final={})


def _phase(index: int, step: int) -> PhaseChanged:
    return PhaseChanged(index=index, name=f"p{index}", epoch=0, step=step, unfrozen=[], trainable_params=1, lr=0.1)


METRICS = {"train/loss": 1.0, "train/acc": 0.5, "val/loss": 1.0, "val/acc": 0.5, "lr": 0.1}
STREAM = [_started(), _phase(0, 0), Step(step=3, epoch=0, metrics={"train/loss": 1.0}),
          EpochEnd(epoch=1, step=5, metrics=METRICS, seconds=1.0, is_best=True),
          _started(resumed=True, start_step=5, start_epoch=1), _phase(0, 5),  # a resumed segment repeats its phase
          EpochEnd(epoch=2, step=10, metrics=METRICS, seconds=1.0),
          TestScore(metrics={"test/loss": 1.0, "test/acc": 0.5}, per_class={}, count=4, weights="best.pt", epoch=1),
          _finished(step=12)]


def test_status_gives_exit_codes_and_whether_the_run_is_over():
    assert [Status(s).exit_code for s in ("completed", "early_stopped", "interrupted", "diverged", "failed")] == \
        [0, 0, 130, 1, 1]
    assert set(EXIT_CODES) == set(Status) and FINISHED_OK == (Status.COMPLETED, Status.EARLY_STOPPED)
    assert [s for s in Status if s.ok] == list(FINISHED_OK)
    assert [s for s in Status if not run_is_over(s)] == [Status.INTERRUPTED]  # resumable: followers keep following
    assert not run_is_over(None)
    assert json.dumps({"status": Status.EARLY_STOPPED}) == '{"status": "early_stopped"}'  # the wire is unchanged


def test_a_finished_event_reads_back_typed_and_a_foreign_status_is_a_foreign_line():
    line = _finished("diverged").to_json()
    assert '"status":"diverged"' in line
    event = parse_line(line)
    assert isinstance(event, RunFinished) and event.status is Status.DIVERGED and event.status.is_error
    assert parse_line(line.replace("diverged", "exploded")) is None


@pytest.mark.parametrize("reader", ["history", "printer", "dashboard"])
def test_every_reader_folds_the_stream_alike(reader):
    if reader == "history":
        folded = RunHistory(Path("."))
        feed = folded.add
    elif reader == "printer":
        folded = HeadlessPrinter(io.StringIO(), tty=False)
        feed = folded.emit
    else:
        folded = RunState()
        feed = folded.ingest
    for event in STREAM:
        feed(event)
    assert folded.first is STREAM[0] and folded.started is STREAM[4] and folded.segments == 2
    assert folded.best_epoch == 1 and folded.best_metrics == METRICS and len(folded.epochs) == 2
    assert [p.step for p in folded.phases] == [0]
    assert folded.test is STREAM[7] and folded.finished is STREAM[8]
    assert (folded.step, folded.epoch) == (12, 2)  # an interrupt's save after the last logged step counts
    feed(_started(resumed=True, start_step=12, start_epoch=2))
    assert folded.finished is None and folded.test is None and folded.step == 12
