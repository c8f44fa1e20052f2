"""Dashboard data without an app: bounded series, smoothing, run state, file following."""

from __future__ import annotations

import asyncio

import pytest

from cnn_tui.contract.events import EpochEnd, Gradients, RunFinished, Step
from cnn_tui.contract.smoothing import debiased_ema
from cnn_tui.ui.series import BucketedSeries
from cnn_tui.ui.sources import FollowRunDir
from cnn_tui.ui.state import RunState
from tests.ui.conftest import recorded


def test_bucketed_series_stays_bounded_and_keeps_the_mean():
    s = BucketedSeries(capacity=100)
    for i in range(100_000):
        s.append(i, float(i % 10))
    assert len(s) <= 100 and sum(s.counts) == 100_000
    assert s.xs[-1] == 99_999 and min(s.mins) == 0 and max(s.maxs) == 9
    assert abs(sum(s.sums) / sum(s.counts) - 4.5) < 1e-9
    xs, ys = s.points(10)
    assert len(xs) == 10 and xs[-1] == 99_999


def test_series_skip_non_finite_points():
    s = BucketedSeries()
    s.append(1, float("nan"))
    s.append(2, 1.0)
    assert s.xs == [2]


def test_debiased_ema_matches_tensorboard():
    """Numbers from TensorBoard's algorithm (vz_line_chart2 resmoothDataset: an EMA started at 0,
    divided by 1 - w**n), worked out once for this series and written down here."""
    values = [1.0, 0.5, 0.8, 0.2, 0.4, 0.1]
    tensorboard = {
        0.6: [1.0, 0.6875, 0.7448979591836735, 0.4944852941176471, 0.4535045107564192, 0.30518259935553166],
        0.9: [1.0, 0.7368421052631582, 0.7601476014760152, 0.5972666472811865, 0.5490952601890066,
              0.45324921728106826],
    }
    for weight, expected in tensorboard.items():
        assert debiased_ema(values, weight) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert debiased_ema(values, 0.0) == values  # weight 0: no smoothing


def test_state_from_a_recorded_run():
    state = RunState()
    for event in recorded():
        state.ingest(event)
    assert state.status == "completed" and not state.live
    assert len(state.epochs) == 16 and state.step == 96
    assert {"train/loss", "train/acc", "lr", "val/loss", "val/acc"} <= set(state.series)
    assert list(state.grad_series)[0] == "conv1_1"
    assert any(d.code == "overfitting" for d in state.diagnoses)
    assert state.best_metrics["val/acc"] == max(e.metrics["val/acc"] for e in state.epochs)


def held_bytes(root: object) -> int:
    """What an object holds: the sizes of everything reachable from it (classes, functions and
    modules aside), each object once."""
    import gc
    import sys
    import types

    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    seen: set[int] = set()
    todo, total = [root], 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total


@pytest.mark.timeout(180)
def test_state_memory_is_flat_over_a_million_steps():
    """A million steps with the events a long run sends (a step each, gradients every 25, a log
    line and a system sample every 100, a diagnosis every 1,000, an epoch every 10,000). What the
    state holds, its epoch rows aside (one per epoch, by design), measured every 10,000 steps: never
    more after step 100,000 than its most before it, with a quarter for the buckets' fill, which
    swings between half and full. Over the last 100,000 steps the process allocates next to nothing
    (tracemalloc: a cache outside the state counts too). And every series still spans the whole run."""
    import tracemalloc

    from cnn_tui.contract.events import Diagnosis, Log, System

    state = RunState()
    layers = {f"layer{i}": 0.1 for i in range(20)}
    held: dict[int, int] = {}
    traced = {}  # and over the last 100,000 steps, all the process allocated: caches outside the state too
    for step in range(1, 1_000_001):
        state.ingest(Step(step=step, epoch=step // 10_000, metrics={"train/loss": 1.0 / step, "lr": 0.1}, t=0.0))
        if step % 25 == 0:
            state.ingest(Gradients(step=step, epoch=0, norms=layers, update_ratios=layers, t=0.0))
        if step % 100 == 0:
            state.ingest(Log(level="info", message=f"line {step}", t=0.0))
            state.ingest(System(step=step, epoch=0, cpu_percent=50.0, cpu_cores=2, rss_mb=100.0, workers=0,
                                data_wait=0.1, t=0.0))
        if step % 1000 == 0:
            state.ingest(Diagnosis(code="x", severity="info", message=f"at {step}", step=step, epoch=0, t=0.0))
        if step % 10_000 == 0:
            state.ingest(EpochEnd(epoch=step // 10_000, step=step, metrics={"val/loss": 1.0}, seconds=1.0, t=0.0))
            held[step] = held_bytes(state) - held_bytes(state.epochs)
        if step == 900_000:
            tracemalloc.start()
            traced["from"] = tracemalloc.get_traced_memory()[0]
    traced["to"] = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert state.step == 1_000_000 and len(state.epochs) == 100
    early = max(b for s, b in held.items() if s <= 100_000)
    late = max(b for s, b in held.items() if s > 100_000)
    assert late <= 1.25 * early, (early, late)  # a float kept per step would add 8 MB; per log line, 1 MB
    assert early < 2_000_000
    # the buckets' lists grow into their capacity meanwhile (about 0.6 MB); a float a step kept anywhere: 3 MB
    assert traced["to"] - traced["from"] < 1_500_000, traced
    for series in [*state.series.values(), *state.grad_series.values()]:
        assert 0 < len(series) <= 1000 and series.xs[-1] == 1_000_000
    assert sum(state.series["train/loss"].counts) == 1_000_000
    assert len(state.logs) == 500 and ("info", "line 1000000") in state.logs and state.log_total >= 10_000
    assert len(state.diagnoses) == 50 and len(state.system_history) <= 120


def test_crash_after_finish_is_ignored_and_before_is_reported():
    state = RunState()
    state.crashed("the training process exited with code 1")
    assert state.status == "crashed" and state.diagnoses[-1].severity == "error"
    state = RunState()
    state.ingest(RunFinished(status="completed", reason="", step=1, epoch=1, wall_seconds=1, best={}, final={}))
    state.crashed("x")
    assert state.status == "completed"


def test_follow_waits_for_torn_lines_and_stops_at_finish(tmp_path):
    events = recorded()
    lines = [e.to_json() + "\n" for e in events]
    path = tmp_path / "events.jsonl"
    half = lines[0][: len(lines[0]) // 2]
    path.write_text(half)

    async def scenario():
        source = FollowRunDir(tmp_path)
        source.poll_seconds = 0.01
        seen = []

        async def reader():
            async for event in source.events():
                seen.append(event)

        task = asyncio.create_task(reader())
        await asyncio.sleep(0.05)
        assert seen == []  # half a line is not an event yet
        with open(path, "a") as handle:
            handle.write(lines[0][len(half):])
            handle.writelines(lines[1:])
        await asyncio.wait_for(task, timeout=5)
        return seen

    seen = asyncio.run(scenario())
    assert [e.type for e in seen] == [e.type for e in events]


def canvas_dots(canvas) -> set[tuple[int, int]]:
    """(x, y) of every dot the canvas draws, read back from its braille characters."""
    bits = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row % 4][col % 2]
    out = set()
    for row, runs in enumerate(canvas.rows()):
        for col, ch in enumerate("".join(text for text, _ in runs)):
            code = ord(ch) - 0x2800 if ch != " " else 0
            out |= {(2 * col + c, 4 * row + r) for r in range(4) for c in range(2) if code & bits[r][c]}
    return out


def test_canvas_lines_connect_their_end_points_in_every_direction():
    from cnn_tui.ui.widgets.canvas import BrailleCanvas

    for x0, y0, x1, y1 in [(0, 0, 9, 0), (0, 0, 0, 11), (0, 11, 9, 0), (3, 2, 4, 11), (9, 11, 0, 0), (2, 5, 2, 5)]:
        canvas = BrailleCanvas(5, 3)  # 10 x 12 dots
        canvas.curve([x0, x1], [y0, y1], "red")
        drawn = canvas_dots(canvas)
        assert (x0, y0) in drawn and (x1, y1) in drawn
        columns = {x for x, _ in drawn}
        assert columns == set(range(min(x0, x1), max(x0, x1) + 1))  # no gaps along x
        for x in columns:  # and none along y: each column's dots are one unbroken run
            ys = sorted(y for cx, y in drawn if cx == x)
            assert ys == list(range(ys[0], ys[-1] + 1))
        assert len(drawn) <= abs(x1 - x0) + abs(y1 - y0) + 2  # no thicker than the line needs
    canvas = BrailleCanvas(2, 2)
    canvas.curve([-5, 20], [-5, 20], "red")  # clipped, no error
    assert canvas_dots(canvas)


def test_the_runs_end_repeats_its_last_epochs_feature_space_without_a_second_score():
    from cnn_tui.contract.events import Embedding

    state = RunState()
    for epoch, score in ((1, 0.1), (2, 0.3)):
        state.ingest(Embedding(epoch=epoch, step=epoch * 10, path=f"e{epoch}.png", silhouette=score))
    state.ingest(Embedding(epoch=2, step=20, path="e2.png", silhouette=0.3, tsne="t.png"))  # the end's t-SNE
    state.ingest(Embedding(epoch=0, step=0, path="chosen.png", silhouette=0.9))  # `cnn-tui views`: no epoch
    assert state.silhouettes == [(1, 0.1), (2, 0.3)] and state.embedding.path == "chosen.png"
