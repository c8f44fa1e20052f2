"""Reading a curve precisely: the zoom window, the value cursor, log y, a y range that ignores the
first spike, and the x axis in steps, epochs or wall time; driven by keys and the mouse wheel."""

from __future__ import annotations

import pytest
from textual.events import MouseScrollUp

from cnn_tui.ui.plot_data import Line, PlotData
from cnn_tui.ui.reading import Reading, apply, x_mapping
from cnn_tui.ui.series import BucketedSeries
from cnn_tui.ui.sources import Replay
from tests.ui.conftest import make_app, recorded, wait_until

pytestmark = pytest.mark.timeout(60)


def spiky() -> PlotData:
    xs = [float(x) for x in range(0, 101)]
    ys = [50.0 if x == 0 else 1.0 + x / 100 for x in range(0, 101)]  # a first spike, then 1..2
    return PlotData(lines=[Line("train (smoothed)", xs, ys, "cyan"), Line("val", xs[::10], [2.0] * 11, "magenta")])


def test_zoom_and_pan_stay_inside_the_run():
    reading = Reading()
    reading.zoom(0.5)
    assert reading.window == (0.25, 0.75)
    reading.pan(-1.0)  # past the start: stops there
    assert reading.window == (0.0, 0.5)
    reading.zoom(0.5, around=0.0)  # around the left edge
    assert reading.window == (0.0, 0.25)
    for _ in range(20):
        reading.zoom(0.5)
    assert reading.window[1] - reading.window[0] == pytest.approx(1 / 64)  # the narrowest window
    for _ in range(20):
        reading.zoom(2)
    assert reading.window == (0.0, 1.0)


def test_a_zoomed_window_keeps_its_points_and_one_neighbour_each_side():
    data = apply(spiky(), Reading(window=(0.5, 0.6)))
    assert data.x_range == (50.0, 60.0)
    assert data.lines[0].xs[0] == 49.0 and data.lines[0].xs[-1] == 61.0 and len(data.lines[0].xs) == 13


def test_the_robust_range_ignores_the_first_spike():
    plain, robust = apply(spiky(), Reading()), apply(spiky(), Reading(robust=True))
    assert plain.y_min is None and plain.y_max is None  # the widget spans every point: 1 to 50
    assert robust.y_min == pytest.approx(0.9, abs=0.05) and robust.y_max == pytest.approx(2.1, abs=0.05)


def test_the_cursor_reads_every_curve_at_its_x():
    data = apply(spiky(), Reading(window=(0.0, 1.0), cursor=0.42))
    x, text = data.cursor
    assert x == pytest.approx(42.0) and text == "step 42: train 1.42, val 2"


def test_log_y_toggles_and_drops_a_linear_charts_fixed_bounds():
    accuracy = PlotData(lines=spiky().lines, y_min=0.0, y_max=1.0)
    data = apply(accuracy, Reading(log_y=True))
    assert data.log_y and data.y_min is None and data.y_max is None


def test_the_x_axis_in_epochs_and_in_wall_time():
    to_epochs = x_mapping("epoch", 25, None)
    assert to_epochs(50) == 2.0
    wall = BucketedSeries()
    for step, seconds in [(10, 5.0), (20, 9.0), (30, 30.0)]:
        wall.append(step, seconds)
    to_wall = x_mapping("wall", 25, wall)
    assert [to_wall(s) for s in (10, 15, 30, 40)] == [5.0, 7.0, 30.0, 30.0]
    data = apply(spiky(), Reading(cursor=0.5), "epoch", [to_epochs])
    assert data.lines[0].xs[-1] == 4.0 and data.cursor[1].startswith("epoch 2.00:")
    assert x_mapping("wall", 25, None) is None  # no clock yet: steps stay


async def test_keys_and_the_wheel_read_the_loss_curve():
    app = make_app(source=Replay(recorded()))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        screen.redraw()
        loss = screen.query_one("#loss-plot")
        full = loss.data.lines[1].xs
        await pilot.press("left_square_bracket")  # zoom in on the current pane (Loss)
        assert loss.data.x_range is not None and len(loss.data.lines[1].xs) < len(full)
        await pilot.press("c")
        assert loss.data.cursor is not None and loss.data.cursor[1].startswith("step ")
        before = loss.data.cursor[0]
        await pilot.press("left", "left")
        assert loss.data.cursor[0] < before
        await pilot.press("y")
        assert loss.data.log_y
        await pilot.press("x")  # every chart: epochs
        screen.redraw()
        assert loss.data.x_axis == "epoch" and loss.data.cursor[1].startswith("epoch ")
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert loss.data.x_range is None  # zoomed all the way out
        acc = screen.query_one("#acc-plot")
        await pilot.hover(acc, offset=(30, 5))
        await pilot._post_mouse_events([MouseScrollUp], acc, offset=(30, 5))  # Textual is pinned: its Pilot's own
        assert acc.data.x_range is not None  # the wheel zooms the chart under the pointer
