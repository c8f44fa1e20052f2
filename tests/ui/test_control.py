"""Any dashboard steers any live run through its folder, and shows what the run did, not what it was
sent: `cnn-tui open` of a headless run pauses, resumes and stops it; a second reader sees the same
state; a writer killed outright shows as *lost*; quitting leaves the run by default and stops it
under --stop-on-exit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cnn_tui.ui.sources import FollowRunDir
from cnn_tui.ui.state import RunState
from tests.conftest import TINY_RECIPE, cnn_tui_cmd
from tests.ui.conftest import make_app, wait_until

LONG_TINY = TINY_RECIPE.replace("epochs: 3", "epochs: 100000")


def start_headless(tmp_path: Path, env: dict) -> tuple[subprocess.Popen, Path]:
    """`cnn-tui run` as a user starts it over SSH (no dashboard); its run folder once it has started."""
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(LONG_TINY)
    note = tmp_path / "run_dir.txt"
    proc = subprocess.Popen(cnn_tui_cmd("run", str(recipe), "--out", str(tmp_path / "runs"), "--quiet",
                                        "--run-dir-file", str(note)),
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not note.is_file():
        if proc.poll() is not None or time.monotonic() > deadline:
            end(proc)
            raise AssertionError(f"the run did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.1)
    return proc, Path(note.read_text().strip())


def end(proc: subprocess.Popen) -> None:
    """Every process a test starts is gone when it ends, pass or fail."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def fold(source: FollowRunDir, state: RunState) -> None:
    """A second dashboard, reduced to what it knows: the events it reads."""
    async for event in source.events():
        state.ingest(event)


@pytest.mark.timeout(240)
async def test_open_pauses_resumes_and_stops_a_headless_run_and_others_see_it(tmp_path, cli_env):
    proc, run_dir = start_headless(tmp_path, cli_env)
    other, seen = FollowRunDir(run_dir), RunState()
    watcher = asyncio.create_task(fold(other, seen))
    try:
        app = make_app(source=FollowRunDir(run_dir), runs_dir=tmp_path / "runs")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.state.step > 0, timeout=60, what="training")
            await pilot.press("p")
            await wait_until(pilot, lambda: screen.state.status == "paused", timeout=15, what="paused")
            paused_at = screen.state.step
            await pilot.pause(1.0)
            assert screen.state.step == paused_at  # the step stops advancing
            await wait_until(pilot, lambda: seen.status == "paused", timeout=5, what="the other reader paused")
            await pilot.press("p")
            await wait_until(pilot, lambda: screen.state.status == "running" and screen.state.step > paused_at,
                             timeout=15, what="resumed")
            await pilot.press("s")
            await wait_until(pilot, lambda: screen.state.finished is not None, timeout=30, what="stopped")
            assert screen.state.status == "interrupted"
            assert (run_dir / "checkpoints" / "last.pt").is_file()
            assert proc.wait(timeout=30) == 130
            await wait_until(pilot, lambda: seen.status == "interrupted", timeout=5, what="the other reader")
            screen.send("resume")  # to a run that has ended: one line in the status bar, no crash
            await wait_until(pilot, lambda: screen.state.notice, timeout=10, what="the refusal")
            screen.redraw()
            line = str(screen.query_one("#status").render()).splitlines()[0]
            assert "resume:" in line and "finished" in line
    finally:
        end(proc)
        await other.close()
        watcher.cancel()


@pytest.mark.timeout(180)
async def test_a_writer_killed_outright_shows_as_lost_within_5_seconds(tmp_path, cli_env):
    proc, run_dir = start_headless(tmp_path, cli_env)
    try:
        app = make_app(source=FollowRunDir(run_dir), runs_dir=tmp_path / "runs")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: (run_dir / "checkpoints" / "last.pt").is_file() and screen.state.step,
                             timeout=60, what="an epoch's checkpoint")
            proc.kill()
            proc.wait()
            killed = time.monotonic()
            await wait_until(pilot, lambda: screen.state.status == "lost", timeout=5, what="lost")
            assert time.monotonic() - killed < 5
            screen.redraw()
            bar = str(screen.query_one("#status").render())
            assert "LOST" in bar and "last event" in bar and f"cnn-tui run --resume {run_dir}" in bar
            step = screen.state.step
            await pilot.pause(1.0)
            assert screen.state.step == step and not screen.state.live  # it stopped waiting
    finally:
        end(proc)


@pytest.mark.timeout(240)
async def test_quitting_leaves_the_run_by_default_and_stops_it_under_stop_on_exit(tmp_path, cli_env):
    from textual.widgets import Button

    from cnn_tui.ui.screens.confirm_quit import ConfirmQuit

    proc, run_dir = start_headless(tmp_path, cli_env)
    try:
        app = make_app(source=FollowRunDir(run_dir))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.screen.state.step > 0, timeout=60, what="training")
            await pilot.press("q")
            await wait_until(pilot, lambda: isinstance(app.focused, Button), what="the question")
            assert isinstance(app.screen, ConfirmQuit) and app.screen.default == "detach"
            assert isinstance(app.focused, Button) and app.focused.id == "detach"
            await pilot.press("enter")
            await pilot.pause(0.5)
        await asyncio.sleep(1.0)
        assert proc.poll() is None  # left training

        app = make_app(source=FollowRunDir(run_dir))
        app.stop_on_exit = True
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.screen.state.step > 0, timeout=60, what="attached")
            await pilot.press("q")
            await wait_until(pilot, lambda: isinstance(app.focused, Button), what="the question")
            assert app.focused.id == "stop"
            await pilot.press("enter")
        assert proc.wait(timeout=30) == 130  # stopped cleanly, checkpoint saved

        (tmp_path / "again").mkdir()
        proc, run_dir = start_headless(tmp_path / "again", cli_env)
        app = make_app(source=FollowRunDir(run_dir))
        app.stop_on_exit = True
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.screen.state.step > 0, timeout=60, what="attached")
            app.exit()  # no question asked (the terminal went): the default, stop
        assert proc.wait(timeout=30) == 130
    finally:
        end(proc)


async def test_a_bad_recipe_started_from_the_dashboard_is_one_line(tmp_path):
    from cnn_tui.ui.sources import ChildRun

    recipe = tmp_path / "bad.yaml"
    recipe.write_text(TINY_RECIPE.replace("epochs: 3", "epochs: lots"))
    source = ChildRun(recipe, tmp_path / "runs")
    app = make_app(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.status == "crashed", timeout=60, what="the refusal")
        message = screen.state.diagnoses[-1].message
        assert "exited with code 2" in message and "cnn-tui: error:" in message and "epochs" in message
        assert "Traceback" not in message
    assert not source.scratch.exists()  # its log and note go once it has ended
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_runs_list_puts_live_runs_first_then_the_newest(tmp_path):
    from benchmarks.long_run import write_long_run
    from cnn_tui.record.owner import HEARTBEAT, take_lock, this_process, write_owner
    from cnn_tui.ui.run_rows import list_runs

    runs = tmp_path / "runs"
    now = time.time()
    old_done = write_long_run(runs / "a-old-done", 50, steps_per_epoch=10)
    new_done = write_long_run(runs / "b-new-done", 50, steps_per_epoch=10)
    lost = write_long_run(runs / "c-lost", 50, steps_per_epoch=10)
    lines = (lost / "events.jsonl").read_text().splitlines()
    (lost / "events.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # no `finished`: it died
    (lost / "summary.json").unlink()
    live = {}
    for name, said in (("d-running", "running"), ("e-paused", "paused")):
        run = write_long_run(runs / name, 50, steps_per_epoch=10)
        lines = (run / "events.jsonl").read_text().splitlines()[:30]
        (run / "events.jsonl").write_text("\n".join(lines) + "\n")
        (run / "summary.json").unlink()
        live[name] = take_lock(run)  # this test process plays the writer
        write_owner(run, this_process())
        (run / HEARTBEAT).write_text(f'{{"t": {now}, "pid": {os.getpid()}, "state": "{said}", "step": 27}}')
    # the live runs wrote longest ago (a run paused for an hour): live still comes first
    for i, run in enumerate((runs / "d-running", runs / "e-paused", old_done, lost, new_done)):
        os.utime(run / "events.jsonl", (now - 3600 + i * 60, now - 3600 + i * 60))
    try:
        rows = list_runs(runs)
        assert [(r.name, r.state) for r in rows] == [
            ("e-paused", "paused"), ("d-running", "running"),
            ("b-new-done", "completed"), ("c-lost", "lost"), ("a-old-done", "completed")]
        assert rows[0].progress == "step 27/50 (54%) · epoch 3/5"
        assert rows[2].progress.startswith("step 50/50") or rows[2].progress.startswith("epochs")
    finally:
        for fd in live.values():
            os.close(fd)


async def test_enter_on_the_runs_list_attaches_to_a_live_run(tmp_path, cli_env):
    from cnn_tui.ui.messages import ShowRuns
    from cnn_tui.ui.screens.run import RunScreen
    from cnn_tui.ui.screens.runs import RunsScreen

    proc, run_dir = start_headless(tmp_path, cli_env)
    try:
        app = make_app(runs_dir=tmp_path / "runs")
        async with app.run_test(size=(120, 40)) as pilot:
            app.post_message(ShowRuns())
            await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen), what="the runs list")
            assert app.screen.rows[0].live and app.screen.rows[0].state == "running"
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run")
            screen = app.screen
            await wait_until(pilot, lambda: screen.state.step > 0, timeout=30, what="its events")
            await pilot.press("p")
            await wait_until(pilot, lambda: screen.state.status == "paused", timeout=15, what="paused from the list")
    finally:
        end(proc)


async def test_a_returning_user_with_a_live_run_starts_on_the_runs_list(tmp_path, monkeypatch):
    from benchmarks.long_run import write_long_run
    from cnn_tui.record.owner import HEARTBEAT, take_lock, this_process, write_owner
    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.launch import any_live_run
    from cnn_tui.ui.screens.runs import RunsScreen

    runs = tmp_path / "runs"
    write_long_run(runs / "done", 20, steps_per_epoch=10)
    assert not any_live_run(runs)  # only finished runs: the recipes come first
    run = write_long_run(runs / "live", 20, steps_per_epoch=10)
    (run / "summary.json").unlink()
    lines = (run / "events.jsonl").read_text().splitlines()[:8]
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    fd = take_lock(run)
    try:
        write_owner(run, this_process())
        (run / HEARTBEAT).write_text(f'{{"t": {time.time()}, "pid": {os.getpid()}, "state": "running", "step": 7}}')
        assert any_live_run(runs)
        app = CnnTuiApp(runs_dir=runs, home="runs")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen), what="the runs list")
            assert app.screen.rows[0].name == "live" and app.screen.rows[0].state == "running"
            await pilot.press("escape")  # the recipes are one key away
            await wait_until(pilot, lambda: not isinstance(app.screen, RunsScreen), what="the picker")
    finally:
        os.close(fd)


@pytest.mark.parametrize("finished", [True, False])
async def test_closing_the_dashboard_as_its_run_ends_leaves_no_scratch_folder(tmp_path, finished):
    """The dashboard closed right as its run completed: the run's log and note went with it (they
    stayed in the temporary folder, one folder per run, when only the end of events() removed them)."""
    import sys

    from cnn_tui.ui.sources import ChildRun

    class Quick(ChildRun):
        def command(self):
            return [sys.executable, "-c", "import time; time.sleep(0.3)"]

    source = Quick(tmp_path / "x.yaml", tmp_path / "runs")
    source.start()
    source.saw_finish = finished  # it wrote `finished` and is closing its files
    try:
        await source.close()
        if finished:
            assert not source.scratch.exists()
        else:  # still training, left to go on: its log stays for whoever reopens it
            assert source.scratch.exists() and source.proc.poll() is None
    finally:
        source.proc.kill()
        source.proc.wait()
