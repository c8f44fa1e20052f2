"""`cnn-tui export`: CSV and TensorBoard that their own readers read back point for point,
models that reproduce the checkpoint's outputs, and outputs that are never half-written."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pytest

from benchmarks.long_run import write_long_run
from cnn_tui.cli import main
from cnn_tui.contract.events import EpochEnd, Gradients, Step, StyleStep
from cnn_tui.contract.wire_reader import parse_lines
from tests.runs import train_tiny

pytestmark = pytest.mark.timeout(240)
DATA = Path(__file__).resolve().parent.parent / "ui" / "data"
STYLE_RUN = DATA / "style_run"


def events_of(run_dir: Path) -> list:
    with open(run_dir / "events.jsonl", encoding="utf-8") as handle:
        return list(parse_lines(handle))


def export(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["export", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("export"), "data.test_split=0.2")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_a_row_per_event_and_every_value_exactly(run_dir, tmp_path, capsys):
    code, out, _ = export(capsys, run_dir, tmp_path / "csv", "--to", "csv")
    assert code == 0 and "steps.csv" in out
    events = events_of(run_dir)
    steps, epochs = [e for e in events if isinstance(e, Step)], [e for e in events if isinstance(e, EpochEnd)]
    grads = [e for e in events if isinstance(e, Gradients)]
    step_rows, epoch_rows = read_csv(tmp_path / "csv" / "steps.csv"), read_csv(tmp_path / "csv" / "epochs.csv")
    assert len(step_rows) == len(steps) and len(epoch_rows) == len(epochs) == 3
    assert len(read_csv(tmp_path / "csv" / "gradients.csv")) == len(grads) > 0
    for row, event in zip(step_rows, steps):
        assert int(row["step"]) == event.step and float(row["time"]) == event.t
        assert all(float(row[name]) == value for name, value in event.metrics.items())  # repr: exact
    for row, event in zip(epoch_rows, epochs):
        assert all(float(row[name]) == value for name, value in event.metrics.items())
    (test_row,) = read_csv(tmp_path / "csv" / "test.csv")
    assert float(test_row["test/acc"]) == next(e for e in events if e.type == "test").metrics["test/acc"]


def test_a_column_that_appears_late_is_in_the_header_and_earlier_rows_are_blank(tmp_path, capsys):
    run = write_long_run(tmp_path / "run", 300, steps_per_epoch=100, extra_metric_from=150)
    assert export(capsys, run, tmp_path / "csv", "--to", "csv")[0] == 0
    with open(tmp_path / "csv" / "steps.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header[-1] == "train/grad_scale" and len(body) == 300
    assert all(len(row) == len(header) for row in body)
    assert body[148][-1] == "" and body[149][-1] == "1024.0"


def test_rows_of_every_shape_land_under_their_own_columns(tmp_path):
    """A row that lacks a column, names them in another order or brings a new one is written cell
    by cell under the header's names (a faster path writing a row's values as they come was tried
    and measured: csv's own float formatting is most of a row's cost, so it gained nothing)."""
    from cnn_tui.export.csv_files import CsvTable
    from cnn_tui.export.scalars import Row

    shapes = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}, {"b": 5.0, "a": 6.0}, {"a": 7.0},
              {"a": 8.0, "b": 9.0, "c": 10.0}, {"a": 11.0, "b": 12.0, "c": 13.0}, {"c": 14.0, "a": 15.0},
              {"a": 16.0, "b": 17.0, "c": 18.0}]
    table = CsvTable(tmp_path, "steps")
    for i, values in enumerate(shapes):
        table.add(Row("steps", i, 100.0 + i, {"step": i, "epoch": 0, "time": 100.0 + i}, values))
    table.close()
    rows = read_csv(tmp_path / "steps.csv")
    assert list(rows[0]) == ["step", "epoch", "time", "a", "b", "c"]
    for i, (row, values) in enumerate(zip(rows, shapes, strict=True)):
        assert {k: v for k, v in row.items() if v != ""} == {
            "step": str(i), "epoch": "0", "time": repr(100.0 + i), **{k: repr(v) for k, v in values.items()}}


@pytest.mark.parametrize("to", ["csv", "tensorboard"])
def test_a_metric_name_that_is_no_utf8_is_exported_escaped(to, tmp_path, capsys):
    """A class folder named in another encoding reaches the events as lone surrogates (per-class
    metrics): the export writes the name's escape instead of stopping with a traceback."""
    run = write_long_run(tmp_path / "run", 20, steps_per_epoch=10)
    lines = (run / "events.jsonl").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"train/acc"', '"train/acc_\\udcff"')  # the JSON escape of a lone surrogate
    (run / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = export(capsys, run, tmp_path / "out", "--to", to)
    assert code == 0 and "Traceback" not in err
    if to == "csv":
        with open(tmp_path / "out" / "steps.csv", newline="", encoding="utf-8") as handle:
            assert "train/acc_\\udcff" in next(csv.reader(handle))
    else:
        assert len(tensorboard_points(tmp_path / "out").Scalars("step/train/acc_\\udcff")) == 1


def tensorboard_points(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def test_tensorboard_reads_every_point(run_dir, tmp_path, capsys):
    assert export(capsys, run_dir, tmp_path / "tb", "--to", "tensorboard")[0] == 0
    tb = tensorboard_points(tmp_path / "tb")
    events = events_of(run_dir)
    steps = [e for e in events if isinstance(e, Step)]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    grads = [e for e in events if isinstance(e, Gradients)]
    loss = tb.Scalars("step/train/loss")
    assert [p.step for p in loss] == [e.step for e in steps]
    assert [p.value for p in loss] == pytest.approx([e.metrics["train/loss"] for e in steps], rel=1e-6)
    assert [p.value for p in tb.Scalars("val/acc")] == pytest.approx([e.metrics["val/acc"] for e in epochs])
    layer = next(iter(grads[0].norms))
    assert len(tb.Scalars(f"grad_norm/{layer}")) == len(grads)
    assert len(tb.Scalars("test/acc")) == 1


def test_tensorboard_gets_a_style_runs_images(tmp_path, capsys):
    assert export(capsys, STYLE_RUN, tmp_path / "tb", "--to", "tensorboard")[0] == 0
    tb = tensorboard_points(tmp_path / "tb")
    images = [e for e in events_of(STYLE_RUN) if e.type == "image"]
    assert sum(len(tb.Images(tag)) for tag in tb.Tags()["images"]) == len(images) > 0
    styles = [e for e in events_of(STYLE_RUN) if isinstance(e, StyleStep)]
    assert len(tb.Scalars("loss/total")) == len(styles)


@pytest.mark.parametrize("size", [0, 1, 7, 8, 100, 4096])
def test_our_record_crc_is_tensorboards(size):
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as theirs

    from cnn_tui.export.tfrecord import masked_crc32c as ours

    data = os.urandom(size)
    assert ours(data) == theirs(data)


@pytest.mark.parametrize(("wall_time", "step", "values"), [
    (1.8e9 + 0.123, 1, {"step/train/loss": 2.302, "step/lr": 0.1}),  # an ordinary row
    (1.8e9, 2**40, {"val/acc": 0.0, "val/loss": -0.0}),  # zeros in the oneof are written; a step past 32 bits
    (0.0, 0, {"test/acc": 1.0}),  # proto3 leaves a zero time and step out
    (-0.0, -1, {}),  # a -0.0 time is written (protobuf compares bits); a negative int64; no values
    (1.0, 3, {"x": math.nan, "y": math.inf, "z": -1e300, "w": 1e-50, "big": 3.5e38}),  # float32's edges
    (2.5, 7, {"grad_norm/features.0.conv" * 8: 1.5, "é/ü": 2.0}),  # a tag over 127 bytes, UTF-8
])
def test_our_scalar_event_is_protobufs(wall_time, step, values):
    """The hand-encoded Event (export/tb_event.py) is byte for byte what tensorboard's classes write."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    from cnn_tui.export.tb_event import scalar_event

    for prefix in ("", "step/", "ü/"):  # the table's prefix (step/, none for epochs), given apart
        summary = Summary(value=[Summary.Value(tag=prefix + tag, simple_value=value) for tag, value in values.items()])
        theirs = Event(wall_time=wall_time, step=step, summary=summary).SerializeToString()
        assert scalar_event(wall_time, step, values.items(), prefix) == theirs


# ------------------------------------------------------------------ models

@pytest.fixture(scope="module", params=["vgg", "resnet", "lenet5", "fine_tuning", "feature_extraction"])
def model_run(request, tmp_path_factory) -> Path:
    """Every kind of network a run can keep: three scratch architectures, a fine-tuned resnet18
    (the whole net) and a precomputed-features head on EfficientNet-Lite0 (base + head exported)."""
    from tests.unit.test_transfer import FEATURES, FINE_TUNING

    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "fine_tuning":
        return train_tiny(folder, "phases[1].epochs=1", "phases[0].epochs=1", text=FINE_TUNING)
    if request.param == "feature_extraction":
        return train_tiny(folder, "train.epochs=1", text=FEATURES)
    arch = {"vgg": [], "resnet": ["model.arch=resnet", "model.width=4", "model.blocks=[1,1]"],
            "lenet5": ["model.arch=lenet5", "data.image_size=32"]}[request.param]
    return train_tiny(folder, "train.epochs=1", *arch)


def checkpoint_logits(run_dir: Path, images):
    """What the checkpoint itself says of `images` ([0, 1] pixels), through predict's own loading."""
    import torch

    from cnn_tui.engine.predict import from_run

    classifier = from_run(run_dir)
    mean, std = classifier.mean.view(1, -1, 1, 1), classifier.std.view(1, -1, 1, 1)
    with torch.no_grad():
        return classifier.model.eval()((images - mean) / std), classifier


def test_onnx_reproduces_the_checkpoint(model_run, tmp_path, capsys):
    import numpy as np
    import onnxruntime
    import torch

    code, out, err = export(capsys, model_run, tmp_path / "model.onnx", "--model", "onnx")
    assert code == 0, err
    assert "logits match" in out
    from cnn_tui.engine.predict import from_run

    classifier = from_run(model_run)
    size = classifier.image_size
    images = torch.rand(5, classifier.channels, size, size)  # a batch size the export never saw
    expected, _ = checkpoint_logits(model_run, images)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"images": images.numpy()})
    assert np.abs(got - expected.numpy()).max() < 1e-4
    names = {p.key: p.value for p in __import__("onnx").load(str(tmp_path / "model.onnx")).metadata_props}
    assert "circle" in names["class_names"] and names["image_size"] == str(size)


def test_torchscript_reproduces_the_checkpoint(model_run, tmp_path, capsys):
    import json

    import torch

    code, out, err = export(capsys, model_run, tmp_path / "model.pt", "--model", "torchscript")
    assert code == 0, err
    files = {"cnn_tui.json": ""}
    loaded = torch.jit.load(str(tmp_path / "model.pt"), _extra_files=files)
    meta = json.loads(files["cnn_tui.json"])
    size = meta["image_size"]
    images = torch.rand(3, meta["channels"], size, size)
    expected, classifier = checkpoint_logits(model_run, images)
    assert meta["class_names"] == classifier.class_names
    assert torch.allclose(loaded(images), expected, atol=1e-5)


# ------------------------------------------------------------------ refusals, one line each

def test_an_existing_output_is_refused_unless_forced(run_dir, tmp_path, capsys):
    target = tmp_path / "csv"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    code, _, err = export(capsys, run_dir, target, "--to", "csv")
    assert code == 2 and "the folder exists" in err and "--force" in err and err.count("\n") == 1
    assert (target / "mine.txt").read_text() == "keep"
    assert export(capsys, run_dir, target, "--to", "csv", "--force")[0] == 2  # not an export's folder
    assert (target / "mine.txt").read_text() == "keep"
    (target / "mine.txt").unlink()
    assert export(capsys, run_dir, target, "--to", "csv")[0] == 0  # an empty folder is used
    assert export(capsys, run_dir, target, "--to", "csv", "--force")[0] == 0  # an earlier export is replaced
    assert sorted(p.name for p in target.iterdir()) == [".cnn-tui-export.json", "epochs.csv", "gradients.csv",
                                                         "steps.csv", "test.csv"]
    model = tmp_path / "m.pt"
    model.write_text("old")
    assert export(capsys, run_dir, model, "--model", "torchscript")[0] == 2 and model.read_text() == "old"


def test_a_failed_export_leaves_nothing_behind(run_dir, tmp_path, monkeypatch, capsys):
    import cnn_tui.export.csv_files as csv_files

    def broken(self, row):
        raise OSError("disk full")

    monkeypatch.setattr(csv_files.CsvTable, "add", broken)
    code, _, err = export(capsys, run_dir, tmp_path / "out" / "csv", "--to", "csv")
    assert code == 2 and err.count("\n") == 1 and "disk full" in err
    assert list((tmp_path / "out").iterdir()) == []  # no target, no .partial folder


def test_a_style_run_has_no_model_to_export(tmp_path, capsys):
    code, _, err = export(capsys, STYLE_RUN, tmp_path / "m.onnx", "--model", "onnx")
    assert code == 2 and err.count("\n") == 1
    assert "no model to export" in err and str(STYLE_RUN / "images") in err
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("how", ["missing", "not_a_run", "newer", "torn"])
def test_bad_run_directories(how, tmp_path, capsys):
    run = tmp_path / "run"
    if how == "not_a_run":
        run.mkdir()
    elif how in ("newer", "torn"):
        write_long_run(run, 200)
        with open(run / "events.jsonl", "a") as handle:
            handle.write('{"v":99,"type":"step","t":1,"step":201}\n' if how == "newer" else '{"v":2,"type":"st')
    code, _, err = export(capsys, run, tmp_path / "csv", "--to", "csv")
    if how == "torn":  # tolerated: every complete line is exported
        assert code == 0 and len(read_csv(tmp_path / "csv" / "steps.csv")) == 200
        return
    assert code == 2 and err.count("\n") == 1
    assert {"missing": "no such run directory", "not_a_run": "has no events.jsonl",
            "newer": "event version 99"}[how] in err
    assert not (tmp_path / "csv").exists()
