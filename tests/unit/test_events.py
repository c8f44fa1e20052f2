"""The wire format round-trips, and readers tolerate torn, unknown and future lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnn_tui.contract.events import (
    EVENT_TYPES,
    WIRE_VERSION,
    Confusion,
    Diagnosis,
    EpochEnd,
    FeatureMaps,
    Gradients,
    Health,
    RunStarted,
    Started,
    Step,
    StyleStarted,
    StyleStep,
)
from cnn_tui.contract.wire_reader import EventReader, parse_line, parse_lines
from cnn_tui.record.rundir import read_events

RECORDED = Path(__file__).parents[1] / "ui" / "data"  # written by version 1 of the wire format


def test_round_trip():
    events = [
        Step(step=5, epoch=0, metrics={"train/loss": 1.5, "lr": 0.1}, images_per_sec=1000.0),
        EpochEnd(epoch=1, step=10, metrics={"val/acc": 0.5}, seconds=1.0, is_best=True),
        Gradients(step=5, epoch=0, norms={"conv1": 0.1}, update_ratios={"conv1": 1e-3}),
        Diagnosis(code="overfitting", severity="warning", message="m", step=1, epoch=1),
        StyleStep(step=3, metrics={"loss/style": 2.0}, steps_per_sec=12.5, memory_mb=3.0),
        StyleStarted(run_id="r", recipe_name="s", kind="style_transfer", device="cpu", device_name="CPU",
                     total_steps=40, model_name="vgg19", layers=[], total_params=1, trainable_params=0,
                     width=96, height=64, levels=[48, 96]),
        Health(step=5, epoch=0, dead={"conv1": 0.25}, saturated={"fc": 0.5}, levels=[0.0, 0.5, 1.0],
               weights={"conv1": [-0.1, 0.0, 0.1]}, grads={"conv1": [-1e-3, 0.0, 1e-3]}),
        Confusion(epoch=1, step=10, classes=["a", "b"], matrix=[[3, 1], [0, 4]], pairs=[[0, 1, 1]],
                  per_class={"a": {"precision": 1.0, "recall": 0.75, "f1": 0.857, "support": 4}},
                  mistakes=[{"path": "views/epoch-001/mistake-01.png", "true": "a", "predicted": "b",
                             "confidence": 0.9}]),
        FeatureMaps(epoch=1, step=10, input="views/probe.png", label="a", predicted="b",
                    layers=[{"name": "conv1", "path": "views/epoch-001/conv1.png", "shown": 4, "channels": 8,
                             "size": [16, 16]}], filters="views/epoch-001/filters.png", filters_layer="conv1"),
    ]
    for event in events:
        line = event.to_json()
        data = json.loads(line)
        assert data["v"] == WIRE_VERSION == 2 and data["type"] == event.type and "\n" not in line
        assert parse_line(line) == event


def test_every_event_class_is_registered_under_its_own_type():
    import cnn_tui.contract.events as module

    classes = {c for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, module.Event) and c not in (module.Event, Started)}
    assert set(EVENT_TYPES.values()) == classes and len(classes) == 21  # 18 + gradcam, embedding, top_patches
    assert all(EVENT_TYPES[c.type] is c for c in classes)


def test_torn_unknown_and_future_lines_are_skipped(tmp_path):
    """Each bad line is one that only its own guard drops: a future line is a complete event in every
    other way, a line short of a field is of a known type and this version, and a "v" that is no
    number (it used to crash the reader) is a foreign line."""
    good = Step(step=1, epoch=0, metrics={"train/loss": 1.0}).to_json()
    future = json.dumps({**json.loads(good), "v": 99})
    lines = [good, '{"v":1,"type":"teleport"}', future, '{"v":2,"type":"step","step":1}', "not json",
             "[1,2]", "", "   ", good[: len(good) // 2], '{"v":"x","type":"log","level":"info","message":"m"}']
    assert list(parse_lines(lines)) == [parse_line(good)]
    assert parse_line(f"  {good} \r\n") == parse_line(good)
    (tmp_path / "events.jsonl").write_text("\n".join(lines))
    assert len(read_events(tmp_path)) == 1


def test_the_reader_remembers_the_newest_version_it_could_not_read():
    reader = EventReader()
    for line in ['{"v":7,"type":"step"}', '{"v":5,"type":"step"}', '{"v":"x","type":"step"}', "{}"]:
        assert reader.parse_line(line) is None
    assert reader.newer_version == 7
    assert EventReader().newer_version is None


def test_nan_metrics_survive_the_wire():
    event = parse_line(Step(step=1, epoch=0, metrics={"train/loss": float("nan")}).to_json())
    assert event.metrics["train/loss"] != event.metrics["train/loss"]


LINES = ['{"a":NaN,"b":Infinity,"c":-Infinity}', '{"a":1,"a":2}', '{"a":123456789012345678901234567890}',
         '{"a":0.1,"b":1E5,"c":-0.0,"d":5e-324,"e":1.7976931348623157e308,"f":1e400}', '{"a":"\\u00e9\\ud800"}',
         ' [1, {"b": [true, false, null]}] ', '{"a":1} x', '{"a":', "", "nan", '"\\x"', "[" * 3000 + "]" * 3000]


def _read(loads, line):
    try:
        value = loads(line)
    except (ValueError, RecursionError) as exc:
        return type(exc)
    return json.dumps(value, allow_nan=True)  # NaN == NaN as text


@pytest.mark.parametrize("line", LINES, ids=range(len(LINES)))
def test_the_fast_decoder_reads_every_line_as_json_does(line):
    """msgspec reads the lines (3x json), json the ones it refuses: the same values or the same
    refusal, NaN and Infinity (a diverged loss) included."""
    from cnn_tui.contract import wire_reader

    pytest.importorskip("msgspec")
    wire_reader.loads("{}")
    assert "msgspec" in repr(wire_reader._decoders[0])  # the fast one, or this test shows nothing
    assert _read(wire_reader.loads, line) == _read(json.loads, line)


def test_a_version_1_style_run_reads_as_style_events():
    """v1 style runs borrowed run_started (epochs=1, num_train=1) and step (images_per_sec = steps/s)."""
    lines = (RECORDED / "style_run" / "events.jsonl").read_text().splitlines()
    raw = [json.loads(line) for line in lines]
    events = list(parse_lines(lines))
    assert len(events) == len(raw) and all(d["v"] == 1 for d in raw)
    started = events[0]
    assert isinstance(started, StyleStarted) and (started.width, started.height) == (96, 64)
    assert started.total_steps == 40 and started.kind == "style_transfer" and not hasattr(started, "epochs")
    steps = [e for e in events if isinstance(e, StyleStep)]
    old_rates = [d["images_per_sec"] for d in raw if d["type"] == "step"]
    assert [e.steps_per_sec for e in steps] == old_rates and len(steps) == 22
    assert not any(isinstance(e, Step) for e in events)


def test_a_version_1_classification_run_reads_unchanged():
    events = list(parse_lines((RECORDED / "overfit.jsonl").read_text().splitlines()))
    assert isinstance(events[0], RunStarted) and events[0].epochs == 16 and events[0].batch_size == 16
    assert sum(isinstance(e, Step) for e in events) == 48 and not any(isinstance(e, StyleStep) for e in events)


def test_a_version_1_style_segment_then_a_version_2_resumed_segment():
    """A run started before the upgrade and resumed after it holds both versions in one file."""
    old = (RECORDED / "style_run" / "events.jsonl").read_text().splitlines()[:6]
    new_start = StyleStarted(run_id="r", recipe_name="s", kind="style_transfer", device="cpu", device_name="CPU",
                             total_steps=40, model_name="m", layers=[], total_params=1, trainable_params=0,
                             width=96, height=64, start_step=2, resumed=True)
    events = list(parse_lines([*old, new_start.to_json(), StyleStep(step=3, metrics={}, steps_per_sec=5.0).to_json()]))
    assert [type(e).__name__ for e in events if isinstance(e, (Started, StyleStep))] == [
        "StyleStarted", "StyleStep", "StyleStep", "StyleStarted", "StyleStep"]
    assert events[-1].steps_per_sec == 5.0
