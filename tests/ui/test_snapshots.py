"""SVG snapshots of the screens, fed by a recorded event stream so they are deterministic.

Update after an intended change with: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from cnn_tui.ui.sources import Replay
from tests.ui.conftest import make_app, recorded
from tests.ui.preflight_fake import fake_preflight  # noqa: F401 (a fixture: the preview's fixed report)

SIZES = [(80, 24), (160, 48)]
MID_RUN = 70  # of the recorded events: inside epoch 10, after the overfitting diagnosis


async def settle(pilot) -> None:
    """Every worker done (the picker's layer table, the replay), then one more redraw. The first
    pause lets what waits for the first frame start its workers (the picker's preview)."""
    await pilot.pause()
    while any(not w.is_finished for w in pilot.app.workers):
        await pilot.pause(0.05)
    await pilot.pause()
    screen = pilot.app.screen
    if hasattr(screen, "redraw"):
        screen.redraw()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_picker(snap_compare, fake_preflight, size):  # noqa: F811
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_screen_mid_run(snap_compare, size):
    app = make_app(source=Replay(recorded()[:MID_RUN]))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_screen_finished(snap_compare, size):
    app = make_app(source=Replay(recorded()))
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_run_screen_finished_gradients_pane_compact(snap_compare):
    async def to_gradients(pilot):
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")
        await settle(pilot)

    app = make_app(source=Replay(recorded()))
    assert snap_compare(app, terminal_size=(80, 24), run_before=to_gradients)


def with_system_samples(events: list) -> list:
    """The recorded run with a machine sample after every step event: a GPU starved at first (a
    data wait of 70%, utilisation 30%), then fed (5%, 96%), as after raising data.workers."""
    from cnn_tui.contract.events import System

    out, n = [], 0
    for event in events:
        out.append(event)
        if event.type == "step":
            n += 1
            starved = n < 20
            out.append(System(step=event.step, epoch=event.epoch, cpu_percent=180.0 if starved else 110.0,
                              cpu_cores=16, rss_mb=2_310.0, workers=2, data_wait=0.7 if starved else 0.05,
                              gpu_name="NVIDIA H200", gpu_util=30.0 if starved else 96.0, gpu_mem_mb=21_504.0,
                              gpu_mem_total_mb=143_771.0, gpu_temp_c=58.0, t=event.t))
    return out


def showing(pane: str, size: tuple[int, int]):
    """run_before: settled, and at 80x24 (one pane at a time) tabbed to `pane`."""
    async def run_before(pilot):
        await settle(pilot)
        if size == (80, 24):
            screen = pilot.app.screen
            while screen.panes[screen.current].id != pane:
                await pilot.press("tab")
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_system_pane(snap_compare, size):
    app = make_app(source=Replay(with_system_samples(recorded()[:MID_RUN])))
    assert snap_compare(app, terminal_size=size, run_before=showing("system-pane", size))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compared_runs(snap_compare, size, tmp_path):
    """Three runs (the recorded one, its losses scaled, other learning rates): curves overlaid in
    their colours, the table of how they ended and the one recipe field they differ in."""
    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.compare import CompareScreen
    from tests.ui.compared_runs import make_runs

    dirs = make_runs(tmp_path / "runs", [0.003, 0.01, 0.03])
    app = CnnTuiApp(recipes_dirs=[], runs_dir=tmp_path / "runs", first_screen=CompareScreen.of(dirs))
    assert snap_compare(app, terminal_size=size, run_before=showing("compare-pane", size))


def test_value_cursor_on_a_zoomed_curve(snap_compare):
    """The finished run at 80x24: the loss zoomed in twice on its last part, read at the cursor, in epochs."""
    async def read(pilot):
        await settle(pilot)
        await pilot.press("c", "left_square_bracket", "left_square_bracket", "left", "left", "left", "x")
        pilot.app.clear_notifications()  # the toast naming the axis would cover the chart's corner
        await settle(pilot)

    app = make_app(source=Replay(recorded()))
    assert snap_compare(app, terminal_size=(80, 24), run_before=read)
