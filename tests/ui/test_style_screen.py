"""The style-transfer run screen: half-block pictures, the image forming live from a real
child process, and snapshots of a recorded run (tests/ui/data/style_run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from cnn_tui.ui.halfblock import fit_cells, halfblock_cells
from cnn_tui.ui.sources import FollowRunDir
from tests.ui.conftest import DATA, wait_until
from tests.ui.test_snapshots import SIZES, settle

STYLE_RUN = DATA / "style_run"
LIVE_STYLE = """\
kind: style_transfer
name: live_style
content_image: sample:chelsea
style_image: sample:mosaic
image_size: 48
feature_net: {name: random}
content_layers: [relu3_1]
style_layers: [relu1_1, relu2_1, relu3_1]
steps: 400  # long enough to pause it mid-run on a fast machine
log: {every_steps: 5, snapshot_every: 5}
"""


def style_app(run_dir: Path = STYLE_RUN, runs_dir: Path = Path("runs"), recipes_dirs=None):
    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.style_run import StyleRunScreen

    first = StyleRunScreen(FollowRunDir(run_dir, follow=False), title="recorded") if run_dir else None
    return CnnTuiApp(recipes_dirs=recipes_dirs or [], runs_dir=runs_dir, first_screen=first)


async def replayed(pilot, app):
    """The recorded run's screen, replayed to its end and redrawn once."""
    screen = app.screen
    await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
    screen.redraw()
    await pilot.pause()
    return screen


def test_fit_cells_keeps_the_aspect_ratio():
    assert fit_cells(200, 100, 80, 40) == (80, 20)  # width-bound: 80 cells x 40 pixel rows
    assert fit_cells(100, 200, 80, 10) == (10, 10)  # height-bound: 20 pixel rows, 10 wide
    assert fit_cells(0, 10, 5, 5) == (0, 0) and fit_cells(10, 10, 0, 5) == (0, 0)


def test_halfblock_cells_put_the_upper_pixel_in_front_and_the_lower_behind():
    picture = Image.new("RGB", (4, 4), (255, 0, 0))
    for x in range(4):
        for y in (1, 3):
            picture.putpixel((x, y), (0, 0, 255))
    rows = halfblock_cells(picture, 4, 2)
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    assert all(cell == ((255, 0, 0), (0, 0, 255)) for row in rows for cell in row)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_style_run_screen(snap_compare, size):
    assert snap_compare(style_app(), terminal_size=size, run_before=settle)


async def test_recorded_run_shows_final_content_and_style_pictures():
    from cnn_tui.ui.widgets.image_view import ImageView

    app = style_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await replayed(pilot, app)
        latest = screen.query_one("#img-latest", ImageView)
        assert latest.picture is not None and latest.caption == "final image"
        assert latest.source[0].endswith("final.png")
        assert screen.query_one("#img-content", ImageView).picture.size == (96, 64)
        assert screen.query_one("#img-style", ImageView).picture.size == (96, 96)
        labels = [ln.label for ln in screen.query_one("#losses-plot").data.lines]
        assert labels == ["total", "style", "content"]  # tv is 0 throughout: not drawn on a log scale
        assert len(screen.query_one("#layers-plot").data.lines) == 5
        assert "style loss fell" in str(screen.query_one("#status").render())


async def test_a_style_recipe_runs_live_from_the_picker(tmp_path):
    from cnn_tui.ui.screens.picker import PickerScreen
    from cnn_tui.ui.screens.style_run import StyleRunScreen
    from cnn_tui.ui.widgets.image_view import ImageView

    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "live_style.yaml").write_text(LIVE_STYLE)
    runs = tmp_path / "runs"
    app = style_app(run_dir=None, runs_dir=runs, recipes_dirs=[folder])
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("slash", *"live_style", "enter")
        screen = app.screen
        assert isinstance(screen, StyleRunScreen)
        latest = screen.query_one("#img-latest", ImageView)
        # pause as soon as a snapshot arrives: while paused the forming image must be on screen
        await wait_until(pilot, lambda: screen.state.images.get("latest") is not None
                         and screen.state.images["latest"].tag == "snapshot", timeout=120, what="a snapshot")
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.state.status == "paused", timeout=60, what="the run to pause")
        await wait_until(pilot, lambda: latest.picture is not None, timeout=10, what="the snapshot to show")
        paused_at = screen.state.step
        assert latest.caption.startswith("step ") and latest.caption.endswith("/400")
        await pilot.pause(1.0)
        assert screen.state.step == paused_at  # paused means paused
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.state.finished is not None, timeout=120, what="the style run to finish")
        screen.redraw()
        await pilot.pause()
        assert screen.state.status == "completed"
        assert latest.caption == "final image"
        (run_dir,) = runs.iterdir()
        assert (run_dir / "images" / "final.png").is_file()
