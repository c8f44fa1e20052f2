"""The picker never runs the user's own model file (arch: python) because its recipe is highlighted:
it says so, and only `t` has the layer-table helper import it."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList

from cnn_tui.ui.app import CnnTuiApp
from tests.ui.conftest import wait_until
from tests.unit.test_user_code import NET

pytestmark = pytest.mark.timeout(240)

RECIPE = """\
kind: scratch
name: zz_mine
device: cpu
model: {arch: python, path: net.py, name: Net}
data: {dataset: shapes, image_size: 16}
"""


async def test_highlighting_an_arch_python_recipe_does_not_import_its_file(tmp_path, monkeypatch):
    marker = tmp_path / "imported.marker"
    monkeypatch.setenv("CNN_TUI_TEST_MARKER", str(marker))  # the helper process inherits it
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "net.py").write_text(NET)
    (mine / "zz_mine.yaml").write_text(RECIPE)
    app = CnnTuiApp(recipes_dirs=[mine])
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.screen
        # the helper is warm first (the default recipe's table): it would import net.py at once if asked
        await wait_until(pilot, lambda: bool(picker.tables), 150, "the first layer table")
        index = next(i for i, r in enumerate(picker.recipes) if r["name"] == "zz_mine")
        options = picker.query_one(OptionList)
        options.highlighted = next(i for i in range(options.option_count)
                                   if options.get_option_at_index(i).id == str(index))
        path = picker.recipes[index]["path"]
        for _ in range(30):  # 3 s: ten times the preview's debounce
            await pilot.pause(0.1)
        assert not marker.exists(), "highlighting the recipe imported its .py file"
        preview = str(picker.query_one("#preview").render())
        assert f"your Python file {mine / 'net.py'}" in preview and "Press t to run it" in preview
        assert not any(key[0] == path for key in picker.tables)
        await pilot.press("t")
        await wait_until(pilot, lambda: any(key[0] == path for key in picker.tables), 60, "its layer table")
        assert marker.exists()
        table = next(value for key, value in picker.tables.items() if key[0] == path)
        assert isinstance(table, tuple) and table[1] > 0, table  # rows, total params, trainable
