"""The wire format round-trips, and readers tolerate torn, unknown and future lines."""

from __future__ import annotations

import json

from cnn_tui.events import EVENT_TYPES, Diagnosis, EpochEnd, Gradients, Step, parse_line, parse_lines
from cnn_tui.rundir import read_events


def test_round_trip():
    events = [
        Step(step=5, epoch=0, metrics={"train/loss": 1.5, "lr": 0.1}, images_per_sec=1000.0),
        EpochEnd(epoch=1, step=10, metrics={"val/acc": 0.5}, seconds=1.0, is_best=True),
        Gradients(step=5, epoch=0, norms={"conv1": 0.1}, update_ratios={"conv1": 1e-3}),
        Diagnosis(code="overfitting", severity="warning", message="m", step=1, epoch=1),
    ]
    for event in events:
        line = event.to_json()
        data = json.loads(line)
        assert data["v"] == 1 and data["type"] == event.type and "\n" not in line
        assert parse_line(line) == event


def test_every_event_class_is_registered_under_its_own_type():
    import cnn_tui.events as module

    classes = {c for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, module.Event) and c is not module.Event}
    assert set(EVENT_TYPES.values()) == classes and len(classes) == 12
    assert all(EVENT_TYPES[c.type] is c for c in classes)


def test_torn_unknown_and_future_lines_are_skipped(tmp_path):
    good = Step(step=1, epoch=0, metrics={"train/loss": 1.0}).to_json()
    lines = [good, '{"v":1,"type":"teleport"}', '{"v":99,"type":"step","step":1}', "not json",
             "[1,2]", "", good[: len(good) // 2]]
    assert list(parse_lines(lines)) == [parse_line(good)]
    (tmp_path / "events.jsonl").write_text("\n".join(lines))
    assert len(read_events(tmp_path)) == 1


def test_nan_metrics_survive_the_wire():
    event = parse_line(Step(step=1, epoch=0, metrics={"train/loss": float("nan")}).to_json())
    assert event.metrics["train/loss"] != event.metrics["train/loss"]
