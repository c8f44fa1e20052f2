"""The run screen's second page (v): feature maps, filters, confusion matrix, worst mistakes,
weight distribution and activation health, from a recorded run directory (tests/ui/data/views_run:
scratch_cnn for 3 epochs, the last epoch's pictures kept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnn_tui.ui.sources import FollowRunDir
from tests.ui.conftest import DATA, wait_until
from tests.ui.test_snapshots import SIZES

VIEWS_RUN = DATA / "views_run"
INSIDE = ["Feature maps", "First-layer filters", "Confusion matrix (validation)", "Worst mistakes",
          "Weight distribution (l: next layer)", "Activation and weight health", "Model"]


def views_app(run_dir: Path = VIEWS_RUN):
    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.run import RunScreen

    first = RunScreen(FollowRunDir(run_dir, follow=False), title="recorded")
    return CnnTuiApp(recipes_dirs=[], runs_dir=Path("runs"), first_screen=first)


async def inside(pilot, *keys: str):
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
    await pilot.press("v", *keys)
    await pilot.pause()
    screen.redraw()
    await pilot.pause()
    return screen


def _text(widget) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


@pytest.mark.timeout(60)
async def test_v_shows_the_inside_page_and_back():
    app = views_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await inside(pilot)
        assert screen.has_class("-inside")
        shown = [p.title for p in screen.panes if p.parent.id == "inside" and p.region.area > 0]
        assert shown == INSIDE
        assert all(p.region.area == 0 for p in screen.panes if p.parent.id == "panes")
        await pilot.press("v")
        await pilot.pause()
        assert not screen.has_class("-inside") and screen.panes[screen.current].title == "Loss"


@pytest.mark.timeout(60)
async def test_tab_walks_through_both_pages_one_pane_at_a_time_when_compact():
    app = views_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await inside(pilot)
        titles = []
        for _ in INSIDE:
            titles.append(next(p.title for p in screen.panes if p.region.area > 0))
            await pilot.press("tab")
            await pilot.pause()
        assert titles == INSIDE
        assert not screen.has_class("-inside")  # past the last inside pane: back to the curves


@pytest.mark.timeout(60)
async def test_the_panes_show_the_last_epochs_pictures_and_numbers():
    app = views_app()
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await inside(pilot)
        confusion = _text(screen.query_one("#confusion"))
        report = screen.state.confusion
        assert f"epoch {report.epoch}" in confusion and all(name in confusion for name in report.classes)
        for row in report.matrix:
            assert " ".join(str(v) for v in row) in " ".join(confusion.split()), row
        mistakes = _text(screen.query_one("#mistakes"))
        first = report.mistakes[0]
        assert f"{first['true']}→{first['predicted']}"[:12] in mistakes
        assert f"{first['confidence']:.0%} sure" in mistakes
        maps = screen.query_one("#feature-maps")
        assert len(maps.loaded) == 1 + len(screen.state.feature_maps.layers)  # the probe and each layer
        assert "▀" in _text(maps)
        health = _text(screen.query_one("#health"))
        assert "conv1_1" in health and "dead/saturated" in health


@pytest.mark.timeout(60)
async def test_l_cycles_the_layer_of_the_weight_distribution():
    app = views_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await inside(pilot)
        layers = screen.state.health_layers()
        assert screen.view().layer == layers[0]
        await pilot.press("l")
        await pilot.pause()
        assert screen.view().layer == layers[1]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inside_page(snap_compare, size):
    async def to_inside(pilot):
        await inside(pilot)

    assert snap_compare(views_app(), terminal_size=size, run_before=to_inside)


def test_inside_page_confusion_pane_compact(snap_compare):
    async def to_confusion(pilot):
        await inside(pilot, "tab", "tab")

    assert snap_compare(views_app(), terminal_size=(80, 24), run_before=to_confusion)


def test_inside_page_mistakes_pane_compact(snap_compare):
    async def to_mistakes(pilot):
        await inside(pilot, "tab", "tab", "tab")

    assert snap_compare(views_app(), terminal_size=(80, 24), run_before=to_mistakes)


def _with_wants(tmp_path: Path) -> Path:
    """views_run whose last epoch also drew what conv3_1's first 8 channels want to see
    (tests/ui/data/wants-conv3_1.png: activation maximisation of a 3-epoch scratch_cnn run)."""
    import json
    import shutil

    run = tmp_path / "views_run"
    shutil.copytree(VIEWS_RUN, run)
    lines = (run / "events.jsonl").read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if '"feature_maps"' in line)
    event = json.loads(lines[last])
    event["wants"] = [{"name": "conv3_1", "path": "views/epoch-003/wants-conv3_1.png", "channels": list(range(8))}]
    lines[last] = json.dumps(event)
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    shutil.copy(DATA / "wants-conv3_1.png", run / "views" / "epoch-003" / "wants-conv3_1.png")
    return run


@pytest.mark.timeout(60)
async def test_the_filters_pane_shows_what_a_deep_layer_wants_to_see(tmp_path):
    app = views_app(_with_wants(tmp_path))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await inside(pilot)
        board = screen.query_one("#filters")
        assert [caption for _, caption in board.captions] == ["conv1_1's filters", "conv3_1 wants"]
        assert len(board.loaded) == 2
        text = _text(board)
        assert "conv3_1 wants" in text and "epoch 3: filters; what conv3_1's units want to see" in text


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inside_page_with_what_a_filter_wants(snap_compare, size, tmp_path):
    async def to_inside(pilot):
        await inside(pilot, *(["tab"] if size[0] < 100 else []))  # compact: one pane a time, the filters second

    assert snap_compare(views_app(_with_wants(tmp_path)), terminal_size=size, run_before=to_inside)
