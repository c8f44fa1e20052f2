"""Several runs at once: names that tell them apart, the recipe fields they differ in, the runs
list's selection, `cnn-tui open A B`, and the curves each run adds."""

from __future__ import annotations

import pytest

from cnn_tui.recipes.diff import fields_that_differ
from cnn_tui.ui.compared_runs import short_names
from tests.ui.compared_runs import make_runs
from tests.ui.conftest import make_app, wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("names,expected", [
    (["cnn-20261203-080145-98f9", "cnn-20261203-080512-1a2b"], ["080145", "080512"]),
    (["cnn-20261203-080145-98f9", "cnn-20261203-080145-1a2b"], ["080145-98f9", "080145-1a2b"]),  # same second
    (["cnn-20261203-080145-98f9", "resnet-20261203-080512-1a2b"], ["cnn", "resnet"]),
    (["cnn-20261203-080145-98f9", "cnn-20261203-080512-1a2b", "resnet-20261203-081000-ffff"],
     ["cnn 080145", "cnn 080512", "resnet 081000"]),
    (["my-run", "my-other"], ["run", "other"]),  # not cnn-tui's own names: the common prefix goes
])
def test_short_names_tell_runs_apart(names, expected):
    assert short_names(names) == expected


def test_fields_that_differ_among_several_recipes():
    recipes = [{"train": {"lr": 0.1, "phases": [1, 2]}, "seed": 0},
               {"train": {"lr": 0.2, "phases": [1, 3]}, "seed": 0},
               {"train": {"lr": 0.1}, "seed": 0}]
    assert fields_that_differ(recipes) == [("train.lr", [0.1, 0.2, 0.1]), ("train.phases[0]", [1, 1, None]),
                                           ("train.phases[1]", [2, 3, None])]
    assert fields_that_differ(recipes[:1] * 3) == []


async def test_select_runs_with_space_and_open_them_compared(tmp_path):
    from cnn_tui.ui.screens.compare import CompareScreen
    from cnn_tui.ui.screens.runs import RunsScreen

    first, second, third = make_runs(tmp_path / "runs", [0.003, 0.01, 0.03])
    app = make_app(runs_dir=tmp_path / "runs")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("r")
        runs = app.screen
        assert isinstance(runs, RunsScreen)  # newest first: third, second, first
        await pilot.press("down", "down", "space")  # the oldest (the cursor stays on the last row)
        assert runs.selected == [first]
        await pilot.press("space")  # again: unmarked
        assert runs.selected == []
        await pilot.press("space", "up", "space", "up", "up", "space")
        assert runs.selected == [first, second, third]
        table = runs.query_one("#runs-table")
        assert [table.get_row_at(i)[0] for i in range(3)] == ["3", "2", "1"]  # the order they were chosen in
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(pilot, lambda: len(screen.pinned) == 2 and all(p.state.finished for p in screen.pinned)
                         and screen.state.finished is not None, what="all three runs read")
        screen.redraw()
        await pilot.pause()
        assert [p.label for p in screen.pinned] == ["061502", "063010"]
        labels = [line.label for line in screen.query_one("#loss-plot").data.lines]
        assert labels == ["raw", "train (smoothed)", "val raw", "val (smoothed)", "train 061502", "061502",
                          "train 063010", "063010"]
        loss = {line.label: line.ys for line in screen.query_one("#loss-plot").data.lines}
        assert loss["061502"][-1] == pytest.approx(loss["val raw"][-1] * 1.4)  # each run's own numbers
        table = str(screen.query_one("#comparison").render())
        assert "train.optimizer.lr" in table and "0.003" in table and "0.03" in table
        assert "Recipe fields that differ (1)" in table


def test_open_hands_several_runs_to_the_app_and_refuses_what_it_cannot_read(tmp_path, monkeypatch, capsys):
    from cnn_tui.cli import main
    from cnn_tui.ui.app import CnnTuiApp

    apps: list = []
    monkeypatch.setattr(CnnTuiApp, "run", lambda self, *a, **k: apps.append(self))
    monkeypatch.setattr("cnn_tui.ui.picture_mode.detect_mode", lambda: "halfblock")
    dirs = make_runs(tmp_path / "runs", [0.003, 0.01])
    assert main(["open", *map(str, dirs)]) == 0 and apps[0].run_dirs == dirs
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "events.jsonl").write_text('{"v": 99, "type": "run_started"}\n')
    assert main(["open", str(dirs[0]), str(newer)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "written with event version 99, newer than this cnn-tui reads (up to 2)" in err
    assert main(["open", str(dirs[0]), str(tmp_path)]) == 2  # a folder that is not a run
    assert "not a run directory: it has no events.jsonl" in capsys.readouterr().err
    assert main(["open", *[str(dirs[0])] * 9]) == 2
    assert "at most 8 are compared at once" in capsys.readouterr().err
    assert len(apps) == 1
