"""The two chart engines (plotext and our braille canvas) over a family of charts and sizes: the same
geometry (curves start at Y_LABEL_WIDTH, a point lands in the same column, so the mouse and the value
cursor mean the same on both), styles carried through plotext's ANSI, gaps, log axes, round ticks."""

from __future__ import annotations

import math

import pytest

from cnn_tui.ui.chart_engines import choose_engines
from cnn_tui.ui.plot_data import (
    Y_LABEL_WIDTH,
    Line,
    PlotData,
    format_step,
    format_x_tick,
    log_ticks,
    nice_ticks,
    y_labels,
)
from cnn_tui.ui.widgets.braille_render import render_braille
from cnn_tui.ui.widgets.line_plot import ENGINES
from cnn_tui.ui.widgets.plotext_render import render_plotext

pytestmark = pytest.mark.timeout(60)
SIZES = [(30, 6), (52, 13), (80, 20), (104, 13), (158, 40)]
BRAILLE = range(0x2801, 0x2900)  # a cell with at least one dot


def text(runs) -> str:
    return "".join(piece for piece, _ in runs)


def dot_cells(rows, style: str | None = None) -> set[tuple[int, int]]:
    """(row, column) of every cell holding braille dots (of one style if given)."""
    cells = set()
    for r, runs in enumerate(rows):
        col = 0
        for piece, piece_style in runs:
            for ch in piece:
                if ord(ch) in BRAILLE and (style is None or piece_style == style):
                    cells.add((r, col))
                col += 1
    return cells


def charts() -> list[PlotData]:
    xs = [float(x) for x in range(0, 2001, 10)]
    noisy = [2 * math.exp(-x / 600) + 0.05 * math.sin(x / 7) for x in xs]
    return [
        PlotData(lines=[Line("train", xs, noisy, "cyan"), Line("val", xs[::20], noisy[::20], "magenta")]),
        PlotData(lines=[Line("acc", xs, [min(1.0, x / 1500) for x in xs], "green")], y_min=0.0, y_max=1.0,
                 markers=[(1000.0, "unfreeze")]),
        PlotData(lines=[Line("grad", xs, [10 ** (-x / 400) for x in xs], "yellow")], log_y=True),
        PlotData(lines=[Line("big", [x * 500 for x in xs], [1e4 + x for x in xs], "cyan")]),
    ]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("chart", range(4))
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_row_fills_the_widget_and_the_curves_start_after_the_labels(engine, chart, size):
    width, height = size
    rows = ENGINES[engine](charts()[chart], width, height)
    assert len(rows) == height
    assert all(len(text(row)) <= width for row in rows)
    cells = dot_cells(rows)
    assert cells, "a curve was drawn"
    assert min(col for _, col in cells) >= Y_LABEL_WIDTH
    assert max(r for r, _ in cells) < height - 3  # the x axis, its labels and the legend are under them
    axis = [text(row)[Y_LABEL_WIDTH - 1] for row in rows[: height - 3]]
    assert set(axis) <= {"│", "┤"} and "┤" in axis  # the y axis, with at least one tick


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("at", [0.0, 0.1, 0.37, 0.5, 0.93, 1.0])
def test_a_spike_lands_in_the_same_column_on_both_engines(size, at):
    """A flat line with one spike: the column of the spike is where the mouse and the cursor say it is."""
    width, height = size
    xs = [float(x) for x in range(0, 1001)]
    spike = round(at * 1000)
    data = PlotData(lines=[Line("s", xs, [1.0 if x == spike else 0.0 for x in range(1001)], "cyan")],
                    y_min=0.0, y_max=1.0)
    tops = {}
    for name, render in ENGINES.items():
        cells = dot_cells(render(data, width, height))
        tops[name] = {col for r, col in cells if r == min(r for r, _ in cells)}
    columns = width - Y_LABEL_WIDTH
    expected = Y_LABEL_WIDTH + at * (columns - 1)
    for name, cols in tops.items():
        assert min(abs(c - expected) for c in cols) <= 1, (name, cols, expected)


def test_plotext_carries_each_lines_style_and_the_cursor_through_its_ansi():
    xs = [float(x) for x in range(100)]
    data = PlotData(lines=[Line("raw", xs, [x % 7 for x in xs], "bright_black", legend=False),
                           Line("pinned", xs, [50 - x / 3 for x in xs], "dim magenta")],
                    markers=[(30.0, "phase")], cursor=(70.0, "step 70: pinned 26.7"))
    rows = render_plotext(data, 80, 20)
    assert dot_cells(rows, "bright_black") and dot_cells(rows, "dim magenta")
    assert dot_cells(rows) == dot_cells(rows, "bright_black") | dot_cells(rows, "dim magenta")
    styles_of = {style for row in rows for piece, style in row if "│" in piece and piece.strip() == "│"}
    assert {"bright_black", "bright_white"} <= styles_of  # the phase marker and the cursor, each in its style
    assert text(rows[-1]).strip() == "│ step 70: pinned 26.7"
    assert all(style in ("", "dim", "bright_black", "bright_white", "dim magenta") for row in rows for _, style in row)


@pytest.mark.parametrize("render", [render_plotext, render_braille], ids=["plotext", "braille"])
def test_a_nan_or_a_non_positive_value_on_a_log_axis_is_a_gap(render):
    xs = [float(x) for x in range(200)]
    ys = [1.0 if not 80 <= x < 120 else (math.nan if x < 100 else 0.0) for x in range(200)]
    rows = render(PlotData(lines=[Line("loss", xs, ys, "cyan")], log_y=True, y_min=0.1, y_max=10.0), 80, 14)
    columns = {col for _, col in dot_cells(rows)}
    gap = range(Y_LABEL_WIDTH + round(0.42 * 71), Y_LABEL_WIDTH + round(0.58 * 71))
    assert columns and not columns & set(gap)


@pytest.mark.parametrize("render", [render_plotext, render_braille], ids=["plotext", "braille"])
def test_a_zoomed_window_draws_only_inside_it_with_round_ticks(render):
    xs = [float(x) for x in range(0, 10_001, 10)]
    data = PlotData(lines=[Line("t", xs, [x / 10_000 for x in xs], "cyan")], x_range=(2_000.0, 4_000.0))
    rows = render(data, 90, 14)
    labels = text(rows[-2]).split()
    assert labels == ["2000", "2500", "3000", "3500", "4000"]
    cells = dot_cells(rows)
    assert {c for _, c in cells} <= set(range(Y_LABEL_WIDTH, 90))


def test_ticks_are_round_and_fit():
    assert nice_ticks(0.4, 2.6, 5) == [0.5, 1.0, 1.5, 2.0, 2.5]
    assert nice_ticks(0, 998_400, 6) == [0, 200_000, 400_000, 600_000, 800_000]
    assert all(len(t) <= 5 for t in (format_step(x) for x in nice_ticks(0, 1_000_000, 8)))
    assert [format_step(x) for x in (999, 12_500, 200_000, 1_000_000, 2_500_000)] == \
        ["999", "12.5k", "200k", "1M", "2.5M"]
    assert [format_x_tick(x, "epoch") for x in (13.0, 13.5)] == ["13ep", "13.5ep"]
    assert [s.strip() for s in y_labels(log_ticks(-4.2, 0.3, 4), True)] == ["1e-4", "1e-2", "1e0"]
    assert [s.strip() for s in y_labels(log_ticks(-0.6, 0.6, 4), True)] == ["0.5", "1", "2"]
    assert all(len(s) == Y_LABEL_WIDTH - 1 for s in y_labels([-1e-5, 0.0, 123_456.0], False))


def test_plotext_goes_to_the_charts_in_screen_order_while_the_budget_lasts():
    choices = choose_engines({"loss": 258, "acc": 258, "lr": 88, "grads": 1536, "tiny": 40}, budget=650)
    assert {name: c.engine for name, c in choices.items()} == \
        {"loss": "plotext", "acc": "plotext", "lr": "plotext", "grads": "braille", "tiny": "plotext"}
    assert choices["grads"].why == "1536 points: plotext would draw 2140 this frame, over its 650"
    assert choose_engines({"alone": 650}, budget=650)["alone"].engine == "plotext"
    assert choose_engines({"alone": 651}, budget=650)["alone"].engine == "braille"
    forced = choose_engines({"loss": 10, "grads": 5000}, budget=650, setting="plotext")
    assert {c.engine for c in forced.values()} == {"plotext"} and forced["grads"].why == "CNN_TUI_CHARTS=plotext"


def long_run(steps: int = 3_000, layers: int = 10) -> list:
    """A run long enough that every chart holds two points a column: eight layers' gradients among them."""
    from cnn_tui.contract.events import EpochEnd, Gradients, RunFinished, RunStarted, Step

    names = [f"layer{i}.conv" for i in range(layers)]
    events: list = [RunStarted(
        run_id="long", recipe_name="long", kind="scratch", device="cpu", device_name="CPU", epochs=10,
        steps_per_epoch=steps // 10, total_steps=steps, batch_size=32, num_train=3200, num_val=320, num_classes=2,
        class_names=["a", "b"], model_name="m", total_params=10, trainable_params=10,
        layers=[{"name": n, "type": "Conv2d", "shape": [8, 8, 8], "params": 1, "trainable": 1} for n in names])]
    for step in range(1, steps + 1):
        loss = 2 * math.exp(-step / steps * 3) + 0.05 * math.sin(step)
        events.append(Step(step=step, epoch=(step - 1) // (steps // 10),
                           metrics={"train/loss": loss, "train/acc": 1 - loss / 3, "lr": 0.1}))
        events.append(Gradients(step=step, epoch=0, norms={n: 1 + i + math.sin(step / 9) for i, n in enumerate(names)},
                                update_ratios={n: 1e-3 for n in names}))
        if step % (steps // 10) == 0:
            events.append(EpochEnd(epoch=step // (steps // 10), step=step, seconds=1.0,
                                   metrics={"val/loss": loss, "val/acc": 0.7, "train/loss": loss}))
    return events + [RunFinished(status="completed", reason="done", step=steps, epoch=10, wall_seconds=1.0, best={},
                                 final={})]


@pytest.mark.parametrize(("size", "setting", "expected"), [
    ((160, 48), "", {"loss-plot": "plotext", "acc-plot": "plotext", "lr-plot": "plotext", "grad-plot": "braille"}),
    ((80, 24), "", {"loss-plot": "plotext"}),  # one pane at a time: the loss chart alone
    ((160, 48), "braille", {"loss-plot": "braille", "acc-plot": "braille", "lr-plot": "braille",
                            "grad-plot": "braille"}),
])
async def test_the_dashboard_draws_its_charts_with_plotext_while_the_frame_can_afford_it(size, setting, expected,
                                                                                         monkeypatch):
    """A long run at 160x48: loss, accuracy and learning rate by plotext, eight layers' gradients by
    braille (why is kept on the chart); at 80x24 the one chart shown is plotext's; CNN_TUI_CHARTS
    puts them all on one."""
    from cnn_tui.ui.sources import Replay
    from cnn_tui.ui.widgets.chart import Chart
    from tests.ui.conftest import make_app, wait_until

    monkeypatch.setenv("CNN_TUI_CHARTS", setting)
    app = make_app(source=Replay(long_run()))
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        screen.state.version += 1
        screen.redraw()
        await pilot.pause()
        shown = {c.id: c for c in screen.query(Chart) if c.engine_choice.why != "not drawn yet"}
        assert {name: chart.engine for name, chart in shown.items()} == expected
        for chart in shown.values():
            drawn = "".join(strip.text for strip in (chart.render_line(y) for y in range(chart.size.height)))
            assert "┤" in drawn and any(ord(ch) in BRAILLE for ch in drawn)
        if "grad-plot" in shown:
            assert shown["grad-plot"].engine_choice.why.endswith("over its 650" if not setting else "=braille")


GAPPED = PlotData(lines=[Line("loss", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [2.0, math.nan, 1.5, 1.2, math.inf, 0.9],
                                "cyan"), Line("val", [2.5], [1.4], "magenta")], cursor=(3.0, "here"))


@pytest.mark.parametrize("shortcut", ["_register", "_signal", "clink"])
@pytest.mark.parametrize("chart", [*charts(), GAPPED], ids=["noisy", "marker", "log", "big", "gaps"])
def test_plotexts_own_path_draws_the_same_chart_as_our_shortcuts(chart, shortcut, monkeypatch):
    """plotext_render builds each signal straight into plotext's kernel (signal() copies the marker
    for every point) and hands it to plotext's list directly (draw() would walk every point to
    update a colour cycle we do not use): the chart is the same as through plotext's own calls, and
    as through _signal's fallback, for a plotext release that moved the kernel's calls."""
    from cnn_tui.ui.widgets import plotext_render

    fast = render_plotext(chart, 80, 16)
    plotexts = {"_register": lambda figure, signal: figure.draw(signal),
                "_signal": lambda figure, xs, ys, dots: figure.signal(xs, ys, marker=dots).lines(),
                "clink": None}  # a plotext release without the kernel calls _signal uses: its fallback
    monkeypatch.setattr(plotext_render, shortcut, plotexts[shortcut])
    assert render_plotext(chart, 80, 16) == fast


DEGENERATE = {
    "one gradient event": PlotData(lines=[Line("conv1", [25.0], [2.0], "cyan")], log_y=True),
    "two steps": PlotData(lines=[Line("loss", [1.0, 2.0], [2.3, 2.2], "cyan")]),
    "a flat curve": PlotData(lines=[Line("lr", [float(x) for x in range(50)], [0.003] * 50, "green")]),
    "a hair's width": PlotData(lines=[Line("acc", [0.0, 1.0, 2.0], [1.0, 1.0001, 1.0002], "green")]),
    "one epoch, epoch axis": PlotData(lines=[Line("val", [0.0, 0.02], [0.5, 0.6], "magenta")], x_axis="epoch"),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
@pytest.mark.parametrize("render", [render_plotext, render_braille], ids=["plotext", "braille"])
def test_no_two_ticks_read_the_same_when_the_range_is_tiny(render, case):
    """A run's first gradient event (x from 25 to 26) once gave x ticks '25 25 25 25 26 26': a step
    count has no tick between whole steps, and a tick that repeats its neighbour's label is left out."""
    rows = render(DEGENERATE[case], 120, 14)
    x_labels = text(rows[-2]).split()
    y_labels_shown = [text(row)[: Y_LABEL_WIDTH - 1].strip() for row in rows[:-3]
                      if text(row)[Y_LABEL_WIDTH - 1] == "┤"]
    assert x_labels and len(set(x_labels)) == len(x_labels), x_labels
    assert y_labels_shown and len(set(y_labels_shown)) == len(y_labels_shown), y_labels_shown
