"""Activations over time beside the health table: a layer that collapses to zero lights only its
strip's bottom row from the tick it died (tests/ui/spectra_run.py: conv2_1 dies a third of the way in)."""

from __future__ import annotations

import pytest

from cnn_tui.insight.health import SPECTRUM_BINS, SPECTRUM_TOP
from cnn_tui.ui.spectrum import CAPACITY, ActivationStrip
from cnn_tui.ui.widgets.activation_strips import RAMP, colour
from tests.ui.spectra_run import COLLAPSE_AT, TICKS, make_run
from tests.ui.test_inside_screen import VIEWS_RUN, _text, inside, views_app
from tests.ui.test_snapshots import SIZES

DARK = colour(0)


def test_the_fold_keeps_a_bounded_strip_per_layer_and_a_collapse_survives_merging():
    strip = ActivationStrip()
    alive = [50] * SPECTRUM_BINS
    dead = [SPECTRUM_TOP] + [0] * (SPECTRUM_BINS - 1)
    for tick in range(5 * CAPACITY):
        strip.append(dead if tick == 3 * CAPACITY else alive, 0.0, 1.0)  # one dead tick among thousands
    assert len(strip.columns) <= CAPACITY
    assert max(col[0] for col in strip.columns) == SPECTRUM_TOP  # merged by max: the dead tick still shows
    cells = strip.fitted(40, 6)
    assert len(cells) <= 40 and all(len(c) == 6 for c in cells)


def test_colour_ramp_ends():
    assert [colour(0), colour(99)] == ["#{:02x}{:02x}{:02x}".format(*RAMP[i]) for i in (0, -1)]


@pytest.mark.timeout(60)
async def test_a_collapsing_layer_fills_its_strips_bottom_bin(tmp_path):
    async with views_app(make_run(tmp_path)).run_test(size=(200, 50)) as pilot:
        screen = await inside(pilot)
        strips = screen.state.spectra
        assert list(strips) == ["conv1_1", "conv2_1", "conv3_1"] and len(strips["conv2_1"].columns) == TICKS
        widget = screen.query_one("#spectra")
        assert widget.parent.display and "conv2_1" in _text(widget)
        width = widget.size.width - 11
        cells = strips["conv2_1"].fitted(width, 6)
        dead_from = -(-COLLAPSE_AT * len(cells) // TICKS) + 1
        assert all(col[0] == SPECTRUM_TOP and max(col[1:]) == 0 for col in cells[dead_from:])  # bottom only
        assert all(max(col[1:]) > 0 for col in cells[:dead_from - 1])  # spread before it died
        # and on screen: conv2_1's bottom cell row is lit below (background) and dark above, after the collapse
        row = next(y for y in range(widget.size.height) if widget.render_line(y).text.startswith("conv2_1")) + 2
        segments = [s for s in widget.render_line(row) if s.text == "▀"]
        late = segments[-1].style
        assert late.bgcolor.triplet.hex == colour(SPECTRUM_TOP) and late.color.triplet.hex == DARK
        early = segments[0].style
        assert early.bgcolor.triplet.hex != colour(SPECTRUM_TOP) or early.color.triplet.hex != DARK


@pytest.mark.timeout(60)
async def test_runs_without_histograms_keep_the_health_table_alone():
    async with views_app().run_test(size=(160, 48)) as pilot:
        screen = await inside(pilot)
        assert not screen.state.spectra and not screen.query_one("#spectra-scroll").display


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_health_pane_with_activation_strips(snap_compare, size, tmp_path):
    async def to_health(pilot):
        await inside(pilot, *(["tab"] * 5 if size == (80, 24) else []))

    assert snap_compare(views_app(make_run(tmp_path)), terminal_size=size, run_before=to_health)


def test_show_says_in_one_line_that_the_run_has_them(tmp_path):
    from cnn_tui.contract.wire_reader import parse_lines
    from cnn_tui.record.history import RunHistory
    from cnn_tui.show.report import activation_lines

    run = make_run(tmp_path)
    history, old = RunHistory(run_dir=run), RunHistory(run_dir=VIEWS_RUN)
    for target, folder in ((history, run), (old, VIEWS_RUN)):
        with open(folder / "events.jsonl", encoding="utf-8") as handle:
            for event in parse_lines(handle):
                target.add(event)
    assert activation_lines(history) == [
        f"  activity  3 layers' activation histograms at {TICKS} ticks (the dashboard's page v draws them)"]
    assert activation_lines(old) == []  # a run from before them: no line
