"""The run screen's third page (w): Grad-CAM, the classes in feature space and the top patches per unit,
from a recorded run directory (tests/ui/data/learned_run: scratch_cnn on four shapes for 3 epochs,
the last epoch's pictures kept)."""

from __future__ import annotations

import pytest

from tests.ui.conftest import DATA
from tests.ui.test_inside_screen import _text, views_app
from tests.ui.test_snapshots import SIZES

LEARNED_RUN = DATA / "learned_run"
LEARNED = ["Where it looks (Grad-CAM)", "Classes in feature space (PCA of the penultimate layer)",
           "What units respond to (top validation patches)"]


async def learned(pilot, *keys: str):
    from tests.ui.conftest import wait_until

    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
    await pilot.press("w", *keys)
    await pilot.pause()
    screen.redraw()
    await pilot.pause()
    return screen


@pytest.mark.timeout(60)
async def test_w_shows_the_learned_page_tab_stays_on_it_and_w_goes_back():
    async with views_app(LEARNED_RUN).run_test(size=(160, 48)) as pilot:
        screen = await learned(pilot)
        assert screen.has_class("-learned") and not screen.has_class("-inside")
        shown = [p.title for p in screen.panes if p.region.area > 0]
        assert shown == LEARNED
        for _ in LEARNED:
            await pilot.press("tab")
            await pilot.pause()
            assert screen.has_class("-learned")  # tab goes round this page, not on to the curves
        cams = _text(screen.query_one("#gradcam"))
        assert "epoch 3: heat of the predicted class" in cams and "probe: " in cams and "▀" in cams
        spread = _text(screen.query_one("#embedding"))
        assert "silhouette" in spread and "200 images" in spread
        patches = _text(screen.query_one("#top-patches"))
        assert "conv1_1" in patches and "(3 px)" in patches
        await pilot.press("w")
        await pilot.pause()
        assert not screen.has_class("-learned") and screen.panes[screen.current].title == "Loss"


@pytest.mark.timeout(60)
async def test_the_old_pages_tab_order_does_not_visit_the_learned_page():
    async with views_app(LEARNED_RUN).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        from tests.ui.conftest import wait_until

        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        seen = set()
        for _ in range(len(screen.panes) + 2):
            seen.add(screen.panes[screen.current].parent.id)
            await pilot.press("tab")
            await pilot.pause()
        assert seen == {"panes", "inside"}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_learned_page(snap_compare, size):
    async def to_learned(pilot):
        await learned(pilot)

    assert snap_compare(views_app(LEARNED_RUN), terminal_size=size, run_before=to_learned)


@pytest.mark.parametrize("pane", [1, 2], ids=["embedding", "patches"])
def test_learned_page_compact(snap_compare, pane):
    async def to_pane(pilot):
        await learned(pilot, *["tab"] * pane)

    assert snap_compare(views_app(LEARNED_RUN), terminal_size=(80, 24), run_before=to_pane)


@pytest.mark.timeout(180)
async def test_n_on_a_finished_run_draws_the_next_validation_image_in_the_background(tmp_path):
    from cnn_tui.recipes.loader import load_recipe
    from tests.conftest import TINY_RECIPE
    from tests.helpers import run_collect
    from tests.ui.conftest import wait_until

    path = tmp_path / "r.yaml"
    path.write_text(TINY_RECIPE)
    result, _ = run_collect(load_recipe(path, ["train.epochs=1"])[0], tmp_path / "runs")
    async with views_app(result.run_dir).run_test(size=(160, 48)) as pilot:
        screen = await learned(pilot)
        assert screen.state.gradcam.epoch == 1
        await pilot.press("n")
        await wait_until(pilot, lambda: screen.state.gradcam.epoch == 0, timeout=150, what="the views process")
        roles = [p["role"] for p in screen.state.gradcam.pictures]
        assert roles == ["probe", "shifted"]
        assert screen.state.feature_maps.input == "views/chosen/probe.png"
        screen.redraw()
        await pilot.pause()
        assert "chosen probe" in _text(screen.query_one("#gradcam"))
