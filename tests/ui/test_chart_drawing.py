"""How cheaply the charts are drawn, and that cheap is still right: the numpy braille rasteriser draws
what the plain-Python one drew (tests/ui/braille_reference.py), glyph for glyph and colour for colour;
the bucketed series' points are the plain loop's; a chart off screen is never rendered, and one handed
the data it already shows is not rendered again."""

from __future__ import annotations

import math
import random

import pytest

from cnn_tui.ui.plot_data import Y_LABEL_WIDTH, Line, PlotData, bounds
from cnn_tui.ui.series import BucketedSeries
from cnn_tui.ui.widgets.braille_render import render_braille
from tests.ui.braille_reference import reference_rows

pytestmark = pytest.mark.timeout(120)
STYLES = ["cyan", "magenta", "dim red", "green", "bright_black"]


def random_chart(rng: random.Random) -> PlotData:
    """A chart of the kinds the dashboard draws, and worse: unsorted x, gaps (NaN, inf, a non-positive
    value on a log axis), lone points, several lines of one colour, markers, a cursor, a zoom window."""
    lines = []
    for k in range(rng.randint(1, 5)):
        n = rng.choice([1, 2, 3, 10, 100, 400])
        xs = sorted(rng.uniform(-5, 1000) for _ in range(n)) if rng.random() < 0.8 else \
            [rng.uniform(0, 1000) for _ in range(n)]
        ys = [rng.gauss(0, 1) * 10 ** rng.randint(-3, 3) for _ in range(n)]
        for i in range(n):
            fault = rng.random()
            ys[i] = math.nan if fault < 0.03 else -abs(ys[i]) if fault < 0.05 else math.inf if fault < 0.06 else ys[i]
        lines.append(Line(f"l{k}", xs, ys, rng.choice(STYLES)))
    log = rng.random() < 0.3
    return PlotData(lines=lines, log_y=log, markers=[(rng.uniform(0, 1000), "m") for _ in range(rng.randint(0, 3))],
                    cursor=(rng.uniform(0, 900), "c") if rng.random() < 0.3 else None,
                    y_min=(1e-3 if log else 0.0) if rng.random() < 0.2 else None,
                    y_max=1.0 if rng.random() < 0.2 else None,
                    x_range=(100.0, 400.0) if rng.random() < 0.2 else None)


def test_the_numpy_rasteriser_draws_what_the_plain_one_drew():
    rng = random.Random(31)
    checked = 0
    while checked < 250:
        data = random_chart(rng)
        width, height = rng.randint(4, 100), rng.randint(2, 30)
        if bounds(data) is None:
            continue
        expected = [[(text, style or "") for text, style in row] for row in reference_rows(data, width, height)]
        drawn = [row[1:] for row in render_braille(data, width + Y_LABEL_WIDTH, height + 3)[:height]]
        assert drawn == expected, (checked, width, height)
        checked += 1


def plain_points(series: BucketedSeries, max_points: int) -> tuple[list[float], list[float]]:
    """BucketedSeries.points as a plain loop (what it was before it was vectorised)."""
    xs, ys = series.xs, series.means()
    if len(xs) <= max_points:
        return list(xs), ys
    step = len(xs) / max_points
    out_x, out_y = [], []
    for k in range(max_points):
        lo, hi = int(k * step), max(int((k + 1) * step), int(k * step) + 1)
        out_x.append(xs[hi - 1])
        out_y.append(sum(series.sums[lo:hi]) / sum(series.counts[lo:hi]))
    return out_x, out_y


def test_a_series_points_are_the_plain_loops_and_follow_every_new_point():
    rng = random.Random(7)
    for _ in range(40):
        series = BucketedSeries(capacity=rng.choice([4, 10, 400, 1000]))
        for step in range(rng.randint(1, 5000)):
            series.append(step, rng.gauss(0, 1) * 10 ** rng.randint(-8, 8))
            if rng.random() < 0.002:
                assert series.points(50) == plain_points(series, 50)  # asked between points: never stale
        for max_points in (1, 3, 49, 101, 2000):
            assert series.points(max_points) == plain_points(series, max_points)
            xs, _ = series.points(max_points)
            xs.append(-1.0)  # a caller's copy: the kept answer is not changed through it
            assert series.points(max_points) == plain_points(series, max_points)


def long_run(steps: int = 600):
    from tests.ui.test_chart_engines import long_run as events

    return events(steps=steps, layers=4)


@pytest.fixture
def rendered(monkeypatch):
    """Which charts each engine rendered, by widget id, as the dashboard paints them."""
    from cnn_tui.ui.widgets.line_plot import ENGINES, LinePlot

    drawn: list[str] = []
    original = LinePlot._build

    def build(self, *key):
        drawn.append(self.id or "?")
        return original(self, *key)

    monkeypatch.setattr(LinePlot, "_build", build)
    monkeypatch.setitem(ENGINES, "plotext", ENGINES["braille"])  # quicker, the same path through the widget
    return drawn


async def test_a_chart_off_screen_is_never_rendered(rendered):
    """At 80x24 one pane is shown at a time: only its chart is rendered; the inside page's chart only
    once the inside page is shown."""
    from cnn_tui.ui.sources import Replay
    from tests.ui.conftest import make_app, wait_until

    app = make_app(source=Replay(long_run()))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        screen.invalidate()
        await pilot.pause(0.2)
        assert set(rendered) == {"loss-plot"}
        await pilot.press("tab")
        await wait_until(pilot, lambda: "acc-plot" in rendered, what="the accuracy chart")
        assert set(rendered) == {"loss-plot", "acc-plot"}
    app = make_app(source=Replay(long_run()))
    rendered.clear()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        await pilot.pause(0.2)
        assert {"loss-plot", "acc-plot", "lr-plot", "grad-plot"} <= set(rendered)
        assert "spread-plot" not in rendered  # on the inside page


async def test_a_chart_handed_the_data_it_shows_is_not_rendered_again(rendered):
    """A finished run is rendered once: keys that change no curve (tab, the next pane) redraw the
    screen's panes, but no chart renders again until its data changes."""
    from cnn_tui.contract.events import Step
    from cnn_tui.ui.sources import Replay
    from tests.ui.conftest import make_app, wait_until

    app = make_app(source=Replay(long_run()))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        await pilot.pause(0.2)
        first = list(rendered)
        assert {"loss-plot", "acc-plot"} <= set(first)
        for _ in range(3):
            await pilot.press("tab")
            await pilot.pause(0.1)
        screen.invalidate()
        await pilot.pause(0.2)
        assert rendered == first
        screen.state.ingest(Step(step=601, epoch=9, metrics={"train/loss": 5.0}))  # a new point: drawn again
        loss = first.count("loss-plot")
        await wait_until(pilot, lambda: rendered.count("loss-plot") == loss + 1, what="the loss chart's redraw")
        assert rendered.count("acc-plot") == first.count("acc-plot")


async def test_new_data_repaints_only_the_rows_of_the_chart_that_changed():
    """A point added at the right end of a flat curve changes a few rows (the curve's, the x axis
    labels), not the whole chart: only those are refreshed, so only those go to the terminal."""
    from textual.app import App

    from cnn_tui.ui.widgets.line_plot import LinePlot

    class One(App):
        def compose(self):
            yield LinePlot(engine="braille", id="plot")

    xs = [float(x) for x in range(100)]
    app = One()
    async with app.run_test(size=(80, 20)) as pilot:
        plot = app.query_one(LinePlot)
        plot.set_data(PlotData(lines=[Line("flat", xs, [1.0] * 100, "cyan")], y_min=0.0, y_max=2.0))
        await pilot.pause()
        plot.render_line(0)
        refreshed: list = []
        original = plot.refresh
        plot.refresh = lambda *regions, **kw: refreshed.append(regions) or original(*regions, **kw)
        plot.set_data(PlotData(lines=[Line("flat", xs, [1.0] * 99 + [1.9], "cyan")], y_min=0.0, y_max=2.0))
        rows = sorted(region.y for regions in refreshed for region in regions)
        assert refreshed and all(regions for regions in refreshed)  # never the whole widget
        assert 0 < len(rows) < plot.size.height // 2, rows
        assert plot._strips[rows[0]] == plot.render_line(rows[0])


def test_the_changed_span_of_a_row_covers_every_cell_that_differs():
    from rich.segment import Segment
    from rich.style import Style
    from textual.strip import Strip

    from cnn_tui.ui.widgets.line_plot import _changed_span

    rng = random.Random(5)
    styles = [None, Style(color="cyan"), Style(color="red"), Style(dim=True)]
    for _ in range(300):
        cells = [(rng.choice(" ⣿x"), rng.choice(styles)) for _ in range(30)]
        changed = list(cells)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(30)
            text, style = changed[at]
            changed[at] = (text, rng.choice(styles)) if rng.random() < 0.5 else (rng.choice(" ⣀y"), style)

        def strip(row):
            return Strip([Segment(ch, style) for ch, style in row])

        start, end = _changed_span(strip(cells), strip(changed))
        differing = [i for i in range(30) if cells[i] != changed[i]]
        assert all(start <= i < end for i in differing)
        if differing:
            assert (start, end) == (differing[0], differing[-1] + 1)
