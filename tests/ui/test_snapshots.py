"""SVG snapshots of the screens, fed by a recorded event stream so they are deterministic.

Update after an intended change with: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from cnn_tui.ui.sources import Replay
from tests.ui.conftest import make_app, recorded

SIZES = [(80, 24), (160, 48)]
MID_RUN = 70  # of the recorded events: inside epoch 10, after the overfitting diagnosis


async def settle(pilot) -> None:
    """Every worker done (the picker's layer table, the replay), then one more redraw."""
    while any(not w.is_finished for w in pilot.app.workers):
        await pilot.pause(0.05)
    await pilot.pause()
    screen = pilot.app.screen
    if hasattr(screen, "redraw"):
        screen.redraw()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_picker(snap_compare, size):
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
