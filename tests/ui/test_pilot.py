"""Drive the dashboard with the keyboard, as a user would, against a real training process."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnn_tui.ui.sources import ChildRun, Replay
from tests.conftest import TINY_RECIPE
from tests.ui.conftest import make_app, scripted_child, wait_until

LONG_TINY = TINY_RECIPE.replace("epochs: 3", "epochs: 100000")


@pytest.fixture
def recipes_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "my_recipes"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(LONG_TINY)
    return folder


async def test_pick_start_watch_pause_resume_stop_and_reopen(recipes_dir, tmp_path):
    from cnn_tui.ui.screens.picker import PickerScreen
    from cnn_tui.ui.screens.run import RunScreen
    from cnn_tui.ui.screens.runs import RunsScreen

    runs = tmp_path / "runs"
    app = make_app(runs_dir=runs, recipes_dirs=[recipes_dir])
    async with app.run_test(size=(160, 48)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("slash", *"tiny")
        assert app.screen.selected()["name"] == "tiny"
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, RunScreen) and isinstance(screen.source, ChildRun)
        await wait_until(pilot, lambda: "train/loss" in screen.state.series and screen.state.grad_latest,
                         what="step and gradient events")
        loss = screen.query_one("#loss-plot")
        await wait_until(pilot, lambda: loss.data.lines, what="the curves drawn (at most once a second while live)")
        assert loss.data.lines[-1].label in ("train (smoothed)", "val (smoothed)")
        grads = screen.query_one("#grad-plot")  # redrawn on its own timer, like the loss chart
        await wait_until(pilot, lambda: grads.data.lines, what="the gradient chart drawn")
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.state.status == "paused", what="paused")
        paused_at = screen.state.step
        await pilot.pause(0.5)
        assert screen.state.step == paused_at  # nothing trains while paused
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.state.status == "running" and screen.state.step > paused_at,
                         what="resumed")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.state.finished is not None, what="stopped")
        assert screen.state.status == "interrupted"
        (run_dir,) = runs.iterdir()
        assert (run_dir / "checkpoints" / "last.pt").is_file()
        await pilot.press("escape")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("r")
        assert isinstance(app.screen, RunsScreen) and app.screen.rows[0].state == "interrupted"
        await pilot.press("enter")
        reopened = app.screen
        assert isinstance(reopened, RunScreen)
        await wait_until(pilot, lambda: reopened.state.finished is not None, what="the reopened run")
        assert reopened.state.step == screen.state.step


async def test_a_training_crash_is_shown_and_the_app_survives(tmp_path):
    code = "import sys; print('Traceback: boom', file=sys.stderr); sys.exit(3)"
    app = make_app(source=scripted_child(code, tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.status == "crashed", what="the crash")
        message = screen.state.diagnoses[-1].message
        assert "exited with code 3" in message and "boom" in message
        screen.redraw()
        assert "exited with code 3" in str(screen.query_one("#diagnosis").render())
        await pilot.press("tab")  # still responsive
        assert app.is_running


async def test_quit_with_a_live_run_asks_first(recipes_dir, tmp_path):
    from cnn_tui.ui.screens.confirm_quit import ConfirmQuit

    source = ChildRun(recipes_dir / "tiny.yaml", tmp_path / "runs")
    app = make_app(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.step > 0, what="training")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("escape")
        assert app.screen is screen and app.is_running
        await pilot.press("q")
        await pilot.press("s")
        await pilot.pause(0.2)
    assert source.proc.wait(timeout=30) == 130  # stopped cleanly: checkpoint saved, exit 130


async def test_panes_cycle_and_maximise_in_compact_mode(events):
    app = make_app(source=Replay(events))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert screen.has_class("-compact")
        visible = lambda: [p.id for p in screen.panes if p.display and p.region.height > 0]  # noqa: E731
        await pilot.pause()
        assert visible() == ["loss"]
        await pilot.press("tab")
        await pilot.pause()
        assert visible() == ["acc"]
        await pilot.press("shift+tab", "shift+tab")  # back past the first pane: the inside page's last
        await pilot.pause()
        assert visible() == ["model-pane"]


async def test_smoothing_keys_change_the_curve(events):
    app = make_app(source=Replay(events))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="replay")
        screen.redraw()
        before = screen.query_one("#loss-plot").data.lines[1].ys
        await pilot.press("plus")
        assert screen.smoothing == 0.8
        screen.redraw()
        after = screen.query_one("#loss-plot").data.lines[1].ys
        assert before != after
        for _ in range(10):
            await pilot.press("minus")
        assert screen.smoothing == 0.0


async def test_resize_to_tiny_and_back(events):
    app = make_app(source=Replay(events))
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not app.screen.has_class("-compact")
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert app.screen.has_class("-compact") and app.is_running


async def test_the_latest_gradients_fill_their_pane_once_a_resize_shows_it(events):
    """At 80x24 the pane is a tab not shown; 200x50 shows it beside the charts. Its height once stayed at
    the one row of "waiting..." (Textual kept the box model while a layout was pending): a finished run
    showed the header alone, for good."""
    app = make_app(source=Replay(events))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bars = app.screen.query_one("#grad-bars")
        assert bars.size.height == 0  # not shown at 80x24
        await pilot.resize_terminal(200, 50)
        await wait_until(pilot, lambda: len(bars.lines()) > 2, what="the bars built at the new size")
        await pilot.pause()
        assert bars.size.height == len(bars.lines()) > 2
        assert bars.render_line(1).text.startswith(bars.lines()[1][:20])


async def test_overlay_another_run(events, tmp_path):
    run = tmp_path / "runs" / "other-run"
    run.mkdir(parents=True)
    (run / "events.jsonl").write_text("".join(e.to_json() + "\n" for e in events))
    app = make_app(source=Replay(events), runs_dir=tmp_path / "runs")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await pilot.press("o")
        await pilot.press("enter")
        await pilot.pause()
        await wait_until(pilot, lambda: screen.pinned and screen.pinned[0].state.finished is not None,
                         what="the pinned run read")
        assert [run.run_dir.name for run in screen.pinned] == ["other-run"]
        screen.redraw()
        labels = [line.label for line in screen.query_one("#loss-plot").data.lines]
        assert "other-run" in labels and "train other-run" in labels
        await pilot.press("O")  # clears the overlays
        screen.redraw()
        assert screen.pinned == [] and "other-run" not in [ln.label for ln in screen.query_one("#loss-plot").data.lines]


async def test_a_run_with_a_test_split_shows_its_test_score(events):
    """The number that counts: in the status line (before anything 80 columns would cut) and,
    in words with the weakest classes, under the diagnoses."""
    from cnn_tui.contract.events import TestScore

    score = TestScore(metrics={"test/loss": 0.41, "test/acc": 0.8625}, per_class={"cats": 0.95, "dogs": 0.775},
                      count=400, weights="best.pt (epoch 7, best val/acc)", epoch=7)
    finished = [i for i, e in enumerate(events) if e.type == "finished"][-1]
    app = make_app(source=Replay(events[:finished] + [score] + events[finished:]))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the end of the run")
        await pilot.pause(0.5)
        status = str(screen.query_one("#status").render())
        assert "test acc 86.25%" in status, status
        diagnosis = str(screen.query_one("#diagnosis").render())
        assert "Test set (400 images never seen in training), scored with best.pt (epoch 7" in diagnosis
        assert "weakest: dogs 78%, cats 95%" in diagnosis


@pytest.mark.timeout(180)
async def test_start_on_two_processes_then_pause_resume_and_stop_every_rank(recipes_dir, tmp_path):
    """n opens the start dialog; the run trains data-parallel, and p / s reach both ranks."""
    from cnn_tui.ui.screens.process_count import ProcessCount
    from cnn_tui.ui.screens.run import RunScreen
    from cnn_tui.ui.widgets.status_bar import status_text

    runs = tmp_path / "runs"
    app = make_app(runs_dir=runs, recipes_dirs=[recipes_dir])
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("slash", *"tiny")
        assert app.screen.selected()["name"] == "tiny"
        app.screen.query_one("#recipes").focus()  # from the filter box back to the list
        await pilot.press("n")
        assert isinstance(app.screen, ProcessCount)
        await pilot.press("0", "enter")  # out of range: the dialog stays and says why
        assert isinstance(app.screen, ProcessCount) and "1 to 64" in str(app.screen.query_one("#problem").content)
        await pilot.press("backspace", "2", "enter")
        screen = app.screen
        assert isinstance(screen, RunScreen) and "train.distributed.nproc=2" in screen.source.command()
        await wait_until(pilot, lambda: screen.state.started is not None and screen.state.step > 0,
                         what="the two ranks training", timeout=90)
        assert screen.state.started.world_size == 2
        assert "2 x CPU" in status_text(screen.state, 0.6, 160).plain
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.state.status == "paused", what="paused")
        paused_at = screen.state.step
        await pilot.pause(0.6)
        assert screen.state.step == paused_at
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.state.step > paused_at, what="resumed")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.state.finished is not None, what="stopped", timeout=60)
        assert screen.state.status == "interrupted"
        (run_dir,) = runs.iterdir()
        assert (run_dir / "checkpoints" / "last.pt").is_file() and (run_dir / "logs" / "rank-1.log").is_file()
