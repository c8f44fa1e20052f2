"""Dashboard data without an app: bounded series, smoothing, run state, file following."""

from __future__ import annotations

import asyncio

from cnn_tui.events import EpochEnd, Gradients, RunFinished, Step
from cnn_tui.ui.series import BucketedSeries, debiased_ema
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
    # TensorBoard: last = last * w + (1 - w) * v; smoothed = last / (1 - w ** n)
    values = [1.0, 2.0, 3.0]
    w = 0.6
    expected, last = [], 0.0
    for n, v in enumerate(values, start=1):
        last = last * w + (1 - w) * v
        expected.append(last / (1 - w**n))
    assert debiased_ema(values, w) == expected
    assert debiased_ema([5.0], 0.9) == [5.0]  # debiasing: the first point is not pulled to 0
    assert debiased_ema(values, 0.0) == values


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


def test_state_memory_is_flat_over_a_million_steps():
    state = RunState()
    layers = {f"layer{i}": 0.1 for i in range(20)}
    for step in range(1, 1_000_001):
        state.ingest(Step(step=step, epoch=step // 1000, metrics={"train/loss": 1.0 / step, "lr": 0.1}, t=0.0))
        if step % 25 == 0:
            state.ingest(Gradients(step=step, epoch=0, norms=layers, update_ratios=layers, t=0.0))
        if step % 1000 == 0:
            state.ingest(EpochEnd(epoch=step // 1000, step=step, metrics={"val/loss": 1.0}, seconds=1.0, t=0.0))
    assert all(len(s) <= 1000 for s in state.series.values())
    assert all(len(s) <= 400 for s in state.grad_series.values())
    assert len(state.logs) <= 500


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
