"""The dashboard survives what happens to the run, and leaves a run alive only when asked."""

from __future__ import annotations

import os
import signal

from cnn_tui.ui.sources import ChildRun
from tests.conftest import TINY_RECIPE
from tests.ui.conftest import make_app, scripted_child, wait_until


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
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.step > 0, what="training")
        await pilot.press("q", "d")
        await pilot.pause(0.2)
    proc = source.proc
    try:
        assert proc.returncode is None  # still training after the app quit
        (run_dir,) = (tmp_path / "runs").iterdir()
        size = (run_dir / "events.jsonl").stat().st_size
        for _ in range(100):
            if (run_dir / "events.jsonl").stat().st_size > size:
                break
            import asyncio
            await asyncio.sleep(0.1)
        assert (run_dir / "events.jsonl").stat().st_size > size  # and still writing its run directory
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        await proc.wait()
    assert proc.returncode == 130


async def test_no_color_is_honoured(monkeypatch, events):
    from cnn_tui.ui.sources import Replay

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(source=Replay(events))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.no_color
        assert any(type(f).__name__ in ("NoColor", "Monochrome") for f in app._filters)
