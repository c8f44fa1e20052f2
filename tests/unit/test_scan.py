"""Reading a run back fast (show): every sparse event, an exact sample of the dense ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.long_run import write_long_run
from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import WIRE_VERSION, EpochEnd, Step, StyleStarted, StyleStep
from cnn_tui.contract.wire_reader import parse_lines
from cnn_tui.record import scan as scan_module
from cnn_tui.record.scan import scan_run

pytestmark = pytest.mark.timeout(120)
DATA = Path(__file__).resolve().parent.parent / "ui" / "data"


@pytest.fixture(scope="module")
def long_run(tmp_path_factory) -> Path:
    return write_long_run(tmp_path_factory.mktemp("long") / "run", 30_000, steps_per_epoch=500)


def full(run_dir: Path) -> list:
    with open(run_dir / "events.jsonl", encoding="utf-8") as handle:
        return list(parse_lines(handle))


def test_a_large_file_is_sampled_but_every_sparse_event_is_read(long_run):
    assert (long_run / "events.jsonl").stat().st_size > scan_module.FULL_READ_BYTES
    scan = scan_run(long_run, max_dense=500)
    everything = full(long_run)
    sparse = [e for e in everything if e.type not in ("step", "gradients")]
    assert [e for e in scan.events if e.type not in ("step", "gradients")] == sparse
    assert len([e for e in sparse if isinstance(e, EpochEnd)]) == 60
    assert scan.sampled and 400 <= scan.dense_read <= 500
    assert scan.dense_in_file == sum(e.type in ("step", "gradients") for e in everything) == 30_300


def test_sampled_steps_are_exact_and_span_the_run(long_run):
    scan = scan_run(long_run, max_dense=300)
    by_step = {e.step: e for e in full(long_run) if isinstance(e, Step)}
    steps = [e for e in scan.events if isinstance(e, Step)]
    assert all(by_step[e.step] == e for e in steps)  # parsed as the full read parses them
    assert steps[0].step <= 300 and steps[-1].step >= 29_700
    gaps = [b.step - a.step for a, b in zip(steps, steps[1:])]
    assert max(gaps) < 3 * 30_000 / 300  # evenly spaced, not clustered


def test_a_small_file_is_read_in_full(tmp_path):
    run_dir = write_long_run(tmp_path / "run", 2_000)
    scan = scan_run(run_dir)
    assert not scan.sampled and scan.events == full(run_dir)


@pytest.mark.parametrize("steps", [2_000, 30_000])
def test_a_torn_last_line_is_left_out(tmp_path, steps):
    run_dir = write_long_run(tmp_path / "run", steps)
    with open(run_dir / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"v":2,"type":"step","t":1,"step":99999,"ep')
    scan = scan_run(run_dir)
    assert scan.torn_tail and all(getattr(e, "step", 0) != 99999 for e in scan.events)
    assert scan.events[-1].type == "finished"


@pytest.mark.parametrize("steps", [2_000, 30_000])
def test_a_newer_event_version_is_one_line_naming_it(tmp_path, steps):
    run_dir = write_long_run(tmp_path / "run", steps)
    with open(run_dir / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"v": WIRE_VERSION + 1, "type": "finished", "t": 1}) + "\n")
    with pytest.raises(UsageError, match=rf"event version {WIRE_VERSION + 1}, newer than this cnn-tui reads"):
        scan_run(run_dir)


def test_a_version_1_style_run_reads_as_style_events():
    scan = scan_run(DATA / "style_run")
    assert isinstance(scan.events[0], StyleStarted)
    assert any(isinstance(e, StyleStep) for e in scan.events)


@pytest.mark.parametrize("make, says", [
    (lambda p: p, "no such run directory"),
    (lambda p: (p.write_text("x"), p)[1], "not a run directory but a file"),
    (lambda p: (p.mkdir(), p)[1], "it has no events.jsonl"),
])
def test_not_a_run_is_one_line(tmp_path, make, says):
    with pytest.raises(UsageError, match=says):
        scan_run(make(tmp_path / "thing"))
