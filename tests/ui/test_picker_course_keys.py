"""The picker's course keys: `a` shows `cnn-tui augment`'s grid for the highlighted recipe (drawn in
the helper process: the dashboard never imports torch), `i` sizes the layer table for 1,000 classes
as the papers' tables are (validate --classes 1000)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from cnn_tui.ui.app import CnnTuiApp
from cnn_tui.ui.screens.augment_grid import AugmentGrid
from cnn_tui.ui.widgets.image_view import ImageView
from tests.ui.conftest import wait_until

pytestmark = pytest.mark.timeout(240)

RECIPE = """\
kind: scratch
name: {name}
device: cpu
data:
  dataset: shapes
  image_size: 16
  shapes: {{num_train: 20, num_val: 10, classes: [circle, square, cross]}}
  augment: {augment}
model: {{arch: vgg, vgg_config: [4, M, 8, M]}}
"""
CLASSIFIER_IN = 8 * 4 * 4  # the flattened 8x4x4 map into the classifier


def highlight(picker, name: str) -> str:
    index = next(i for i, r in enumerate(picker.recipes) if r["name"] == name)
    options = picker.query_one(OptionList)
    options.highlighted = next(i for i in range(options.option_count)
                               if options.get_option_at_index(i).id == str(index))
    return picker.recipes[index]["path"]


@pytest.fixture
def mine(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "zz_flips.yaml").write_text(RECIPE.format(name="zz_flips", augment="{vflip: true, hflip: true}"))
    (folder / "zz_plain.yaml").write_text(RECIPE.format(name="zz_plain", augment="{}"))
    return folder


async def test_a_shows_the_augmentation_grid_and_i_the_paper_sized_table(mine):
    app = CnnTuiApp(recipes_dirs=[mine])
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.screen
        path = highlight(picker, "zz_flips")
        await wait_until(pilot, lambda: (path, Path(path).stat().st_mtime, None) in picker.tables, 150,
                         "the layer table at the data's 3 classes")
        own = picker.tables[(path, Path(path).stat().st_mtime, None)][1]

        await pilot.press("i")
        key = (path, Path(path).stat().st_mtime, 1000)
        await wait_until(pilot, lambda: key in picker.tables, 60, "the table at 1,000 classes")
        assert picker.tables[key][1] - own == (1000 - 3) * (CLASSIFIER_IN + 1)  # only the classifier grew
        assert "sized for 1,000 classes" in str(picker.query_one("#preview").render())
        await pilot.press("i")
        assert picker.table_classes is None

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AugmentGrid), 120, "the augmentation grid")
        grid = app.screen
        await wait_until(pilot, lambda: grid.is_mounted and grid.query(ImageView), 10, "the grid's view")
        view = grid.query_one(ImageView)
        await wait_until(pilot, lambda: view.picture is not None, 10, "the picture read")
        assert "flip, vflip" in view.caption and "training image 0" in view.caption
        assert not grid.picture.exists() and not grid.picture.parent.exists()  # the temporary PNG is gone
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is picker, 10, "back to the picker")

        highlight(picker, "zz_plain")
        await pilot.press("a")
        await wait_until(pilot, lambda: any("turns no augmentation on" in n.message for n in app._notifications),
                         60, "the one-line reason")
        assert app.screen is picker
