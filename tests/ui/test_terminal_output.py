"""The filter on the dashboard's terminal output (ui/terminal_output.py) leaves every cell as it was,
in the same style, and writes fewer bytes."""

from __future__ import annotations

import random
import re

import pytest
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from cnn_tui.ui.terminal_output import coalesce_sgr

pytestmark = pytest.mark.timeout(60)
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def sgr_tokens(params: str) -> list[str]:
    """SGR parameters as attributes: 38;2;r;g;b and 38;5;n are one each, 0 is a reset."""
    parts, out, i = params.split(";") if params else ["0"], [], 0
    while i < len(parts):
        if parts[i] in ("38", "48") and i + 1 < len(parts):
            width = 5 if parts[i + 1] == "2" else 3
            out.append(";".join(parts[i:i + width]))
            i += width
        else:
            out.append(parts[i] or "0")
            i += 1
    return out


def _apply(style: dict, token: str) -> dict:
    """A terminal's style after one SGR attribute (fg, bg, the set of other attributes)."""
    if token == "0":
        return {"fg": None, "bg": None, "attrs": frozenset()}
    head = token.split(";")[0]
    n = int(head)
    if head == "38" or 30 <= n <= 37 or 90 <= n <= 97:
        return {**style, "fg": token}
    if head == "48" or 40 <= n <= 47 or 100 <= n <= 107:
        return {**style, "bg": token}
    if n in (39, 49):
        return {**style, "fg" if n == 39 else "bg": None}
    off = {"22": {"1", "2"}, "23": {"3"}, "24": {"4"}, "27": {"7"}, "29": {"9"}}
    return {**style, "attrs": style["attrs"] - off[token] if token in off else style["attrs"] | {token}}


def screen(data: str, width: int = 40, height: int = 8) -> dict[tuple[int, int], tuple]:
    """What a terminal shows: (row, column) -> (character, foreground, background, attributes). A blank
    shows no foreground (nor bold, dim, italic): for one, only what it shows is kept."""
    cells: dict[tuple[int, int], tuple] = {}
    style: dict = _apply({}, "0")
    row = col = 0
    at = 0
    for match in [*CSI.finditer(data), None]:
        end = match.start() if match is not None else len(data)
        for ch in data[at:end]:
            if ch == "\n" and row == height - 1:  # a line feed on the last row scrolls the screen up
                cells = {(r - 1, c): cell for (r, c), cell in cells.items() if r > 0}
                col = 0
            elif ch == "\n":
                row, col = row + 1, 0
            elif ch == " " or ch == "\u2800":
                shown = style["attrs"] & {"4", "7", "9"}
                cells[(row, col)] = (ch, style["fg"] if shown else None, style["bg"], shown)
                col += 1
            else:
                cells[(row, col)] = (ch, style["fg"], style["bg"], style["attrs"])
                col += 1
        if match is None:
            break
        at = match.end()
        params, final = match.groups()
        if final == "H":
            r, _, c = params.partition(";")
            row, col = int(r or 1) - 1, int(c or 1) - 1
        elif final == "m":
            for token in sgr_tokens(params):
                style = _apply(style, token)
    return cells


def frame(rng: random.Random) -> str:
    """A partial update as Textual writes one: cursor moves, then strips of styled pieces."""
    styles = [None, Style(color="cyan"), Style(color="#102030", bgcolor="#000000"), Style(bold=True, dim=True),
              Style(color="magenta", bgcolor="#101010"), Style(bgcolor="#101010"), Style(reverse=True, color="red"),
              Style(underline=True), Style(color="color(80)", bgcolor="color(233)")]
    out = []
    for row in rng.sample(range(8), rng.randint(1, 8)):
        out.append(f"\x1b[{row + 1};{rng.randint(1, 5)}H")
        pieces = [Segment(rng.choice(["ab", " ", "   ", "\u2800⣿⡇", "─┤", "x"]), rng.choice(styles))
                  for _ in range(rng.randint(1, 12))]
        out.append("".join(Strip.render_style(s, t, ColorSystem.TRUECOLOR) if s is not None else t
                           for t, s, _ in pieces))  # as Strip.render writes them
    return "".join(out)


def test_the_filtered_output_shows_the_same_cells_in_fewer_bytes():
    rng = random.Random(3)
    saved = 0
    for _ in range(300):
        data = frame(rng)
        filtered = coalesce_sgr(data)
        assert screen(filtered) == screen(data)
        assert len(filtered) <= len(data)
        saved += len(data) - len(filtered)
    assert saved > 0


def test_a_chart_row_switches_colour_only_for_the_curves_not_for_the_blanks_between_them():
    bg = "48;5;233"
    row = "".join(f"\x1b[0;38;5;{fg};{bg}m{text}" for fg, text in
                  [(246, "  3.5┤"), (253, "     "), (240, "⠈⢆"), (253, "     "), (80, "⠱⡀"), (253, "  ")]) + "\x1b[0m"
    data = "\x1b[0m\x1b[20;2H" + row
    filtered = coalesce_sgr(data)
    assert screen(filtered) == screen(data)
    assert filtered == (f"\x1b[0m\x1b[20;2H\x1b[38;5;246;{bg}m  3.5┤     \x1b[38;5;240m⠈⢆     \x1b[38;5;80m⠱⡀  "
                        "\x1b[0m")  # one colour a curve, the background said once


def test_a_reset_before_an_erase_or_a_mode_is_kept_and_a_write_ends_reset():
    data = "\x1b[36mab\x1b[0m\x1b[K\x1b[36mcd\x1b[0m"
    assert coalesce_sgr(data) == data  # the erase fills with the current background: it must see the reset
    three = "\x1b[36mab\x1b[0m\x1b[36mcd\x1b[0m\x1b[36mef\x1b[0m"  # the first reset makes the state known
    assert coalesce_sgr(three) == "\x1b[36mab\x1b[0m\x1b[36mcdef\x1b[0m"
    assert coalesce_sgr("\x1b[0mab") == "\x1b[0mab"  # what the last write left is not known
    assert coalesce_sgr("plain text") == "plain text"


async def test_the_dashboard_writes_through_the_filter():
    from tests.ui.conftest import make_app

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert getattr(app._driver, "_coalesced", False)


def _update(strip: Strip, x1: int, x2: int):
    from textual._compositor import ChopsUpdate

    return ChopsUpdate([{0: strip}], [(0, x1, x2)], [[strip.cell_length]])


def test_a_changed_span_is_written_from_where_it_changes_not_from_the_widgets_left_edge():
    from rich.console import Console

    from cnn_tui.ui.terminal_output import render_from_the_change

    console = Console(color_system="truecolor", force_terminal=True, width=40)
    old = Strip([Segment("  3.5┤ ", Style(color="grey50")), Segment("⠈⢆   ⠱⡀      ", Style(color="cyan"))])
    new = Strip([Segment("  3.5┤ ", Style(color="grey50")), Segment("⠈⢆   ⠱⠁⡀     ", Style(color="cyan"))])
    update = _update(new, 12, 15)
    textuals = getattr(type(update), "textuals_render_segments", type(update).render_segments)
    theirs, ours = textuals(update, console), render_from_the_change(update, console)
    assert ours.startswith("\x1b[1;13H") and "3.5" not in ours and len(ours) < len(theirs)
    assert screen(coalesce_sgr(str(Strip([*old]).render(console)) + ours)) == screen(
        coalesce_sgr(str(Strip([*old]).render(console)) + theirs))
    wide = Strip([Segment("表表表表表表表表", Style(color="cyan"))])  # a wide character is never cut in half
    assert render_from_the_change(_update(wide, 5, 9), console).startswith("\x1b[1;1H")


async def test_the_dashboard_writes_partial_updates_from_where_they_change():
    from textual._compositor import ChopsUpdate

    from cnn_tui.ui.terminal_output import render_from_the_change
    from tests.ui.conftest import make_app

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert ChopsUpdate.render_segments is render_from_the_change


def _console(width: int = 40, height: int = 8):
    from rich.console import Console

    return Console(color_system="truecolor", force_terminal=True, width=width, height=height)


def test_a_piece_that_changes_nothing_on_screen_is_not_written_again():
    from cnn_tui.ui.terminal_output import render_from_the_change

    console = _console()
    blue = Style(color="grey93", bgcolor="navy_blue")

    def header(memory: str) -> Strip:
        return Strip([Segment(" RUNNING ", blue + Style(reverse=True)),
                      Segment(f" run · {memory} MB" + " " * 15, blue)])

    first = render_from_the_change(_update(header("823"), 0, 40), console)
    assert "RUNNING" in first
    assert render_from_the_change(_update(header("823"), 0, 40), console) == ""  # the same cells: not a byte
    changed = render_from_the_change(_update(header("808"), 0, 40), console)
    textuals = _textuals_render()
    theirs = textuals(_update(header("808"), 0, 40), _console())
    assert "RUNNING" not in changed and "08" in changed and len(changed) < len(theirs) // 2
    assert screen(first + changed) == screen(first + theirs)


def _textuals_render():
    """Textual's own ChopsUpdate.render_segments (kept beside ours once the patch is in)."""
    from textual._compositor import ChopsUpdate

    from cnn_tui.ui.terminal_output import _patch_partial_updates

    _patch_partial_updates()
    return ChopsUpdate.textuals_render_segments  # type: ignore[attr-defined]


def test_a_full_paint_or_a_new_size_forgets_what_the_terminal_showed():
    from textual._compositor import LayoutUpdate
    from textual.geometry import Region

    from cnn_tui.ui.terminal_output import render_from_the_change

    _textuals_render()  # the full paints forget
    console = _console()
    strip = Strip([Segment("epoch 3", Style(color="cyan"))])
    assert render_from_the_change(_update(strip, 0, 7), console)
    assert render_from_the_change(_update(strip, 0, 7), console) == ""
    LayoutUpdate([[strip]], Region(0, 0, 40, 1)).render_segments(console)  # e.g. back from an editor
    assert "epoch 3" in render_from_the_change(_update(strip, 0, 7), console)
    console.size = (50, 8)  # the terminal was resized: what it shows is not known
    assert "epoch 3" in render_from_the_change(_update(strip, 0, 7), console)


def test_partial_updates_leave_the_screen_as_textuals_own_would():
    """Random pieces over a 40 x 8 screen, many repeating what is there: after each update, the
    screen written by ours matches the one written by Textual's, and ours wrote fewer bytes."""
    from textual._compositor import ChopsUpdate

    from cnn_tui.ui.terminal_output import render_from_the_change

    textuals = _textuals_render()
    rng = random.Random(7)
    styles = [Style(color="cyan"), Style(color="magenta", bgcolor="#101010"), Style(bgcolor="#101010"),
              Style(reverse=True, color="red"), Style(color="color(80)", bgcolor="color(233)")]
    console, ours, theirs = _console(), "", ""
    for _ in range(200):
        chops: list[dict] = [{} for _ in range(8)]
        ends: list[list[int]] = [[] for _ in range(8)]
        spans = []
        for y in sorted(rng.sample(range(8), rng.randint(1, 4))):
            x = rng.randint(0, 20)
            strip = Strip([Segment(rng.choice(["ab", "  ", "\u2800⣿⡇", "─┤", "x"]), rng.choice(styles))
                           for _ in range(rng.randint(1, 6))])
            chops[y][x] = strip
            ends[y].append(x + strip.cell_length)
            spans.append((y, x, x + strip.cell_length))  # a whole piece (cutting at x1 has its own test)
        update = ChopsUpdate(chops, spans, ends)
        ours += render_from_the_change(update, console)
        theirs += textuals(update, _console())
        assert screen(ours) == screen(theirs)
    assert len(ours) < len(theirs)


def test_rows_that_change_nothing_write_no_line_feeds_that_would_scroll_the_screen():
    """Textual puts a line feed between the rows of an update (each piece then moves the cursor
    anyway). With every piece of a row left out, those line feeds were all that was written: from
    the cursor's place at the bottom (the app parks it there) they scrolled the whole screen up, and
    an idle picker went blank."""
    from textual._compositor import ChopsUpdate

    from cnn_tui.ui.terminal_output import render_from_the_change

    console = _console()
    rows = [Strip([Segment(f"row {y}", Style(color="cyan"))]) for y in range(8)]

    def update() -> ChopsUpdate:
        return ChopsUpdate([{0: strip} for strip in rows], [(y, 0, 5) for y in range(8)], [[5]] * 8)

    first = render_from_the_change(update(), console)
    assert render_from_the_change(update(), console) == ""  # nothing changed: not even a line feed
    rows[6] = Strip([Segment("row X", Style(color="cyan"))])
    again = render_from_the_change(update(), console)
    assert "\n" not in again and "X" in again
    parked = "\x1b[8;1H"  # the cursor where the app leaves it, on the last row
    assert screen(first + parked + again) == screen(first + parked + _textuals_render()(update(), _console()))
