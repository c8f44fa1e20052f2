"""`cnn-tui open RUN_DIR` on a run that a headless process is writing: it follows it live,
through an interrupt and a `--resume` (two run_started events in one file)."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import pytest

from cnn_tui.record.rundir import read_events
from cnn_tui.ui.sources import FollowRunDir
from tests.conftest import TINY_RECIPE, cnn_tui_cmd, files_in
from tests.ui.conftest import make_app, wait_until


@pytest.mark.timeout(300)
async def test_open_follows_a_live_run_through_interrupt_and_resume(tmp_path, cli_env):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY_RECIPE.replace("epochs: 3", "epochs: 60"))  # 360 steps: a few seconds
    runs = tmp_path / "runs"
    first = subprocess.Popen(cnn_tui_cmd("run", str(recipe), "--out", str(runs), "--quiet"), env=cli_env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):  # the run directory appears once the data and model are ready
            found = files_in(runs, "*/events.jsonl")
            if found:
                break
            await asyncio.sleep(0.1)
        run_dir = found[0].parent
        app = make_app(source=FollowRunDir(run_dir), runs_dir=runs)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.state.step >= 30, timeout=120, what="live steps")
            assert screen.state.status == "running" and not screen.state.started.resumed
            first.send_signal(signal.SIGINT)
            assert first.wait(timeout=60) == 130
            await wait_until(pilot, lambda: screen.state.status == "interrupted", timeout=30, what="the interrupt")
            stopped_at = screen.state.step
            resumed = await asyncio.create_subprocess_exec(*cnn_tui_cmd("run", "--resume", str(run_dir), "--quiet"),
                                                           env=cli_env, stdout=asyncio.subprocess.DEVNULL,
                                                           stderr=asyncio.subprocess.PIPE)
            await wait_until(pilot, lambda: screen.state.status == "running" and screen.state.started.resumed,
                             timeout=120, what="the resumed segment, live")
            _, stderr = await asyncio.wait_for(resumed.communicate(), timeout=240)
            await wait_until(pilot, lambda: screen.state.finished is not None
                             and screen.state.status != "interrupted", timeout=60, what="the resumed run")
            screen.redraw()
            await pilot.pause()
            state = screen.state
            assert state.started.resumed and state.started.start_step == stopped_at
            assert state.status == "completed" and state.step == state.total_steps
            logged = [message for _, message in state.logs]
            assert logged[0].startswith("started tiny") and any(m.startswith("resumed tiny") for m in logged)
            xs = state.series["train/loss"].xs
            assert xs == sorted(xs) and xs[-1] == state.total_steps  # one curve across both segments
            assert "COMPLETED" in str(screen.query_one("#status").render())
    finally:
        if first.poll() is None:
            first.kill()
    assert resumed.returncode == 0, stderr
    starts = [e for e in read_events(run_dir) if e.type == "run_started"]
    assert [s.resumed for s in starts] == [False, True]


async def test_open_replays_a_resumed_run_as_one(tmp_path, load_tiny):
    from cnn_tui.contract.sinks import CallbackSink
    from cnn_tui.engine.runner import RunOptions, execute
    from cnn_tui.train.control import RunControl

    control = RunControl()

    def stop_at_step_8(event):
        if event.type == "step" and event.step >= 8:
            control.request_stop()

    first = execute(load_tiny(), RunOptions(out=tmp_path), CallbackSink(stop_at_step_8), control)
    assert first.status == "interrupted"
    second = execute(load_tiny(), RunOptions(out=tmp_path, resume=first.run_dir), CallbackSink(lambda e: None))
    assert second.status == "completed"
    app = make_app(source=FollowRunDir(first.run_dir, follow=False))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None and screen.state.status == "completed",
                         what="the replay")
        state = screen.state
        assert state.started.resumed and len(state.epochs) == 3 and state.step == state.total_steps == 18
        assert [e.epoch for e in state.epochs] == [1, 2, 3]
