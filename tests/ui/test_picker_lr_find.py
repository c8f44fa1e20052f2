"""The picker's `f` key runs `cnn-tui lr-find` on the highlighted recipe in a child process and
shows its suggestion and run folder (the child's output read back); a failed child says why."""

from __future__ import annotations

import sys

import pytest

from cnn_tui.ui import lr_find_child
from cnn_tui.ui.app import CnnTuiApp
from tests.ui.conftest import wait_until
from tests.ui.test_picker_course_keys import highlight, mine  # noqa: F401 (a fixture)

pytestmark = pytest.mark.timeout(120)


def test_the_command_and_the_answer(tmp_path):
    command = lr_find_child.lr_find_command(tmp_path / "r.yaml", tmp_path / "runs", ("train.epochs=2",))
    assert command[1:4] == ["-m", "cnn_tui", "lr-find"] and command[-2:] == ["--set", "train.epochs=2"]
    ok = lr_find_child.read_answer(0, "chart\nsuggested lr: 0.098 (steepest ...)\nrun directory: runs/x\n", "")
    assert ok.ok and ok.suggestion.startswith("0.098") and str(ok.run_dir) == "runs/x"
    bad = lr_find_child.read_answer(2, "", "cnn-tui: error: lr-find: a style recipe ...\n")
    assert not bad.ok and bad.suggestion.startswith("cnn-tui: error")


async def test_f_shows_the_childs_suggestion(mine, monkeypatch, tmp_path):  # noqa: F811
    seen: list[list[str]] = []

    def fake(recipe, runs_dir, overrides):  # the real child takes a minute: its output, printed at once
        seen.append([str(recipe), str(runs_dir)])
        return [sys.executable, "-c", f"print('suggested lr: 0.098 (steepest)'); print('run directory: {runs_dir}/x')"]

    monkeypatch.setattr(lr_find_child, "lr_find_command", fake)
    app = CnnTuiApp(recipes_dirs=[mine], runs_dir=tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        path = highlight(app.screen, "zz_plain")
        await pilot.press("f")
        await wait_until(pilot, lambda: any("suggested lr 0.098" in n.message for n in app._notifications), 60,
                         "the suggestion shown")
        assert seen == [[path, str(tmp_path / "runs")]]
        assert any(f"run folder {tmp_path / 'runs'}/x" in n.message for n in app._notifications)
