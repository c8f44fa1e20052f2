"""The dashboard survives what happens to the run, and leaves a run alive only when asked."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

from cnn_tui.ui.sources import ChildRun
from tests.conftest import TINY_RECIPE
from tests.ui.conftest import make_app, scripted_child, wait_until


async def still_writing(runs: Path, seconds: float = 10.0) -> None:
    """The one run under `runs` appends to its events.jsonl within `seconds`."""
    (run_dir,) = runs.iterdir()
    size = (run_dir / "events.jsonl").stat().st_size
    for _ in range(int(seconds / 0.1)):
        if (run_dir / "events.jsonl").stat().st_size > size:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{run_dir} stopped writing")


async def test_a_killed_training_process_is_reported(tmp_path):
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    app = make_app(source=scripted_child(code, tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.status == "crashed", what="the crash")
        assert "killed by signal 9" in screen.state.diagnoses[-1].message
        assert app.is_running


async def test_leave_running_detaches_the_run(tmp_path):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY_RECIPE.replace("epochs: 3", "epochs: 100000"))
    source = ChildRun(recipe, tmp_path / "runs")
    app = make_app(source=source)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.state.step > 0, what="training")
            await pilot.press("q", "d")
            await pilot.pause(0.2)
        assert source.proc.poll() is None  # still training after the app quit
        await still_writing(tmp_path / "runs")
    finally:
        stop(source)
    assert source.proc.returncode == 130


def stop(source: ChildRun) -> None:
    """A test's training process stops, pass or fail (SIGTERM: it saves; SIGKILL if it will not)."""
    if source.proc is not None and source.proc.poll() is None:
        os.kill(source.proc.pid, signal.SIGTERM)
        try:
            source.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            source.proc.kill()
            source.proc.wait()


async def test_without_colour_the_gradient_flags_still_read(monkeypatch, events):
    """NO_COLOR (or a monochrome terminal) takes red and yellow away: each flagged layer keeps a glyph."""
    from cnn_tui.contract.events import Gradients
    from cnn_tui.ui.sources import Replay
    from cnn_tui.ui.widgets.grad_bars import GradBars

    monkeypatch.setenv("NO_COLOR", "1")
    last = events[-1]
    sick = Gradients(step=96, epoch=15, norms={"conv1_1": 1e-9, "conv2_1": 0.3, "fc1": 0.4, "classifier": float("inf")},
                     update_ratios={"conv2_1": 1e-4, "fc1": 0.05, "classifier": 0.0})
    app = make_app(source=Replay([*events[:-1], sick, last]))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.state.finished is not None, what="the replay")
        while not app.screen.panes[app.screen.current].id == "bars":
            await pilot.press("tab")
        app.screen.redraw()
        await pilot.pause()
        assert app.no_color
        rows = {line.split()[0]: line for line in app.screen.query_one(GradBars).lines()}
        assert rows["conv1_1"].split()[1] == "▼" and rows["classifier"].split()[1] == "✖"
        assert rows["fc1"].split()[1] == "!" and rows["conv2_1"].split()[1].startswith("█")
        assert "▼ vanishing" in rows["▼"]  # the legend says what the glyphs mean


async def test_closing_the_dashboard_without_asking_leaves_the_run_training(tmp_path):
    """The app closes without the question (a closed browser tab, a terminal gone): the default, leave it."""
    from cnn_tui.ui.messages import StartRecipe

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY_RECIPE.replace("epochs: 3", "epochs: 100000"))
    app = make_app(runs_dir=tmp_path / "runs")
    source = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.post_message(StartRecipe(recipe))
            await wait_until(pilot, lambda: getattr(app.screen, "state", None) is not None
                             and app.screen.state.step > 0, what="training")
            source = app.screen.source
            app.exit()  # what textual-serve's "quit" does when the tab closes
        assert source.proc.poll() is None
        await still_writing(tmp_path / "runs")
    finally:
        if source is not None:
            stop(source)


async def test_a_started_run_shares_nothing_with_the_dashboard(tmp_path):
    """Its own session (no SIGHUP from the dashboard's terminal), stdin from /dev/null, output to a log:
    the dashboard can die in any way and the run does not notice."""
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY_RECIPE.replace("epochs: 3", "epochs: 100000"))
    source = ChildRun(recipe, tmp_path / "runs")
    source.start()
    try:
        pid = source.proc.pid
        assert os.getsid(pid) == pid != os.getsid(0)
        assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
        assert os.readlink(f"/proc/{pid}/fd/1") == os.readlink(f"/proc/{pid}/fd/2") == str(source.log)
    finally:
        stop(source)
