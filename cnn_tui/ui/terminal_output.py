"""Fewer bytes to the terminal for the same screen: every piece of text Textual writes comes wrapped
in its own colour codes and a reset (`ESC[<style>m text ESC[0m`), so a chart row of twenty pieces
in the pane's colours repeats the same ~20-40-byte colour code twenty times. Over SSH those bytes
are most of what a live run costs (benchmarks/cases/wire.py counts them).

`coalesce_sgr` keeps track of the style the terminal has and the style the next text asks for, and
writes only the difference when text is painted:
- a reset followed by the very style it reset costs nothing; a change of colour alone is written as
  that colour (`ESC[38;5;80m`), not as a reset and the whole style again;
- blank text (spaces, the empty braille cell) shows no foreground: it is painted in whatever
  foreground the terminal has, as long as the background and the attributes a blank shows
  (underline, reverse, strike-through) are the same. A chart row is mostly blanks between curves,
  and each of them used to switch the colour away from the curve's and back.
The terminal ends every cell looking as Textual drew it. Cursor moves paint nothing, so a style
carries across them; anything else (erasing, modes, queries) gets the asked style first, and the
write ends in the style Textual's ends in (reset). Until a write's first reset the terminal's state
is not known (what the last write left), so that part passes through as it is.

Written here rather than taken from a library: it is a filter on Textual's output stream, which no
terminal library offers, and it is small.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from rich.control import Control

ESCAPE = re.compile(r"\x1b\[([0-9;:?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")
MOVES = frozenset("HfABCDGd")  # cursor positioning: paints nothing
RESET = "\x1b[0m"
BLANK = " \u2800\r\n"  # cells that show no foreground (\r\n: cursor motion between rows)
SHOWN_ON_BLANK = frozenset({"4", "7", "9", "21", "53"})  # underline, reverse, strike, double underline, overline
OFF = {"22": ("1", "2"), "23": ("3",), "24": ("4", "21"), "25": ("5", "6"), "27": ("7",), "28": ("8",), "29": ("9",),
       "55": ("53",)}


class Sgr(NamedTuple):
    """A terminal's text style: foreground and background (their SGR codes; None: the default) and the
    other attributes' codes."""

    fg: str | None = None
    bg: str | None = None
    attrs: frozenset[str] = frozenset()

    def apply(self, params: str) -> Sgr:
        """This style with an SGR sequence's parameters applied, as a terminal applies them."""
        return _applied(self, params)

    def codes(self) -> list[str]:
        return [*sorted(self.attrs), *([self.fg] if self.fg else []), *([self.bg] if self.bg else [])]


@lru_cache(maxsize=1024)  # a screen has a few dozen styles: each pair is parsed once
def _applied(style: Sgr, params: str) -> Sgr:
    fg, bg, attrs = style.fg, style.bg, set(style.attrs)
    parts = params.split(";") if params else ["0"]
    i = 0
    while i < len(parts):
        code = parts[i] or "0"
        if code in ("38", "48", "58") and i + 1 < len(parts):  # 5;n or 2;r;g;b
            width = 5 if parts[i + 1] == "2" else 3
            colour, i = ";".join(parts[i:i + width]), i + width
            if code == "38":
                fg = colour
            elif code == "48":
                bg = colour
            else:
                attrs = {a for a in attrs if not a.startswith("58;")} | {colour}
            continue
        i += 1
        number = int(code) if code.isdigit() else -1
        if number == 0:
            fg, bg, attrs = None, None, set()
        elif 30 <= number <= 37 or 90 <= number <= 97:
            fg = code
        elif number == 39:
            fg = None
        elif 40 <= number <= 47 or 100 <= number <= 107:
            bg = code
        elif number == 49:
            bg = None
        elif code in OFF:
            attrs -= set(OFF[code])
        else:
            attrs.add(code)
    return Sgr(fg, bg, frozenset(attrs))


DEFAULT = Sgr()


@lru_cache(maxsize=1024)
def _change(have: Sgr, want: Sgr) -> str:
    """The shortest SGR sequence that takes the terminal from `have` to `want`."""
    if have == want:
        return ""
    if want == DEFAULT:
        return RESET
    whole = f"\x1b[0;{';'.join(want.codes())}m"
    if have.attrs - want.attrs:  # an attribute to turn off: start from a reset
        return whole
    codes = sorted(want.attrs - have.attrs)
    if want.fg != have.fg:
        codes.append(want.fg or "39")
    if want.bg != have.bg:
        codes.append(want.bg or "49")
    diff = f"\x1b[{';'.join(codes)}m"
    return diff if len(diff) <= len(whole) else whole


def _looks_the_same(text: str, have: Sgr, want: Sgr) -> bool:
    """Blank text painted in `have` looks as it would in `want`: only the foreground (and bold, dim,
    italic, blink: invisible on a blank) differ."""
    return have.bg == want.bg and not text.strip(BLANK) and not (SHOWN_ON_BLANK & (have.attrs | want.attrs))


def coalesce_sgr(data: str) -> str:
    """The same screen in fewer bytes (see the module's docstring)."""
    if RESET not in data:
        return data
    out: list[str] = []
    have: Sgr | None = None  # the terminal's style; None: not known until this write's first reset
    want = DEFAULT  # the style the stream asks for from here on
    at = 0
    for match in ESCAPE.finditer(data):
        text = data[at:match.start()]
        at = match.end()
        params, final = match.group(1), match.group(2)
        is_sgr = final == "m" and params is not None and "?" not in params
        if have is None:  # pass through until the first reset makes the state known
            out.append(text)
            out.append(match.group(0))
            if is_sgr and (params or "0").split(";")[0] in ("", "0"):
                have = want = DEFAULT.apply(params)
            continue
        if text:
            if not _looks_the_same(text, have, want):
                out.append(_change(have, want))
                have = want
            out.append(text)
        if is_sgr:
            want = want.apply(params)
        elif final in MOVES and params is not None and "?" not in params:
            out.append(match.group(0))
        else:
            out.append(_change(have, want))
            have = want
            out.append(match.group(0))
    text = data[at:]
    if have is None:
        out.append(text)
        return "".join(out)
    if text and not _looks_the_same(text, have, want):
        out.append(_change(have, want))
        have = want
    out.append(text)
    out.append(_change(have, want))  # end as the stream ends (Textual's writes end reset)
    return "".join(out)


class Shown:
    """What the terminal shows, cell by cell, as far as partial updates wrote it: (character, style)
    per cell, None where not known (never written since the last full paint, or a wide character,
    or a picture's escape codes). A widget refreshed without a visible change (a header whose memory
    figure moved, the blank gutter beside a pane repainted with its neighbour) rewrote its whole
    line; cells already showing what they should are now left out."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        self.rows: dict[int, list[tuple[str, Any] | None]] = {}

    def changed(self, y: int, x: int, cells: list[tuple[str, Any]]) -> tuple[int, int] | None:
        """Record `cells` written at (x, y); the span [start, end) of them that differs from what the
        terminal shows (None: nothing does)."""
        row = self.rows.setdefault(y, [])
        if len(row) < x + len(cells):
            row.extend([None] * (x + len(cells) - len(row)))
        old = row[x:x + len(cells)]
        start = 0
        while start < len(cells) and cells[start] == old[start]:
            start += 1
        if start == len(cells):
            return None
        end = len(cells)
        while end > start and cells[end - 1] == old[end - 1]:
            end -= 1
        row[x:x + len(cells)] = cells
        return start, end

    def forget(self, y: int, x: int, width: int) -> None:
        row = self.rows.setdefault(y, [])
        if len(row) < x + width:
            row.extend([None] * (x + width - len(row)))
        row[x:x + width] = [None] * width


def shown_on(console: Any) -> Shown:
    """The console's record of the screen, new (all unknown) when the terminal's size changed."""
    size = (console.width, console.height)
    shown = getattr(console, "_cnn_tui_shown", None)
    if shown is None or shown.size != size:
        shown = Shown(size)
        console._cnn_tui_shown = shown
    return shown


def forget_the_screen(console: Any) -> None:
    """A full paint (a new layout, a resize, a return from an editor): nothing is known until rewritten."""
    console._cnn_tui_shown = Shown((console.width, console.height))


def render_from_the_change(update: Any, console: Any) -> str:
    """Textual's ChopsUpdate.render_segments (textual 8.2.8), less what did not change: for a span
    (y, x1, x2) of a line that a widget's piece starts before, Textual writes the piece from its own
    start, so a chart row changed at column 60 was rewritten from its y label on. Here the piece is
    cut at x1 (where its cells are one column each: a wide character is never cut in half), and then
    to the cells that differ from what the terminal shows (Shown); a piece that changes nothing is
    not written at all."""
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    chops, chop_ends = update.chops, update.chop_ends
    shown = shown_on(console)
    for y, x1, x2 in update.spans:
        for end, (x, strip) in zip(chop_ends[y], chops[y].items()):
            if strip is None or x > x2 or end <= x1:
                continue
            if not x2 > x >= x1 or end > x2:
                strip = strip.crop(0, min(end, x2) - x)
            text = strip.text
            if strip.cell_length == len(text) and "\x1b" not in text:  # one cell a character
                if x < x1:  # cut at the change
                    strip, x = strip.crop(x1 - x), x1
                cells = [(ch, segment.style) for segment in strip for ch in segment.text]
                span = shown.changed(y, x, cells)
                if span is None:
                    continue
                if span != (0, len(cells)):
                    strip, x = strip.crop(*span), x + span[0]
            else:
                shown.forget(y, x, strip.cell_length)
            append(move_to(x, y).segment.text)
            append(strip.render(console))
    # No line feed between rows, as Textual writes: every piece starts with its own cursor move, and
    # with a row's pieces all left out a line feed was all that was written: from the cursor's place
    # on the last row it scrolled the whole screen up.
    return "".join(sequences)


def _full_paint(render_segments: Callable[[Any, Any], str]) -> Callable[[Any, Any], str]:
    def forgetting(update: Any, console: Any) -> str:
        forget_the_screen(console)
        return render_segments(update, console)

    forgetting._forgets = True  # type: ignore[attr-defined]
    return forgetting


def _patch_partial_updates() -> None:
    from textual import _compositor

    update = getattr(_compositor, "ChopsUpdate", None)
    if update is not None and not getattr(update, "_from_the_change", False) \
            and {"chops", "spans", "chop_ends"} <= set(update.__init__.__code__.co_varnames):
        update.textuals_render_segments = update.render_segments  # kept: the tests compare with it
        update.render_segments = render_from_the_change
        update._from_the_change = True
        for name in ("LayoutUpdate", "InlineUpdate"):  # whole paints: what was known is overwritten
            full = getattr(_compositor, name, None)
            if full is not None and not getattr(full.render_segments, "_forgets", False):
                full.render_segments = _full_paint(full.render_segments)


def install(app: object) -> None:
    """Filter everything the app's driver writes (a headless or web driver too: the output stays
    valid ANSI). Textual has no hook for this, so its driver's `write` is wrapped; and partial
    updates are written from where they change (render_from_the_change)."""
    _patch_partial_updates()
    driver = getattr(app, "_driver", None)
    if driver is None or getattr(driver, "_coalesced", False):
        return
    write = driver.write

    def coalesced(data: str) -> None:
        write(coalesce_sgr(data))

    driver.write = coalesced
    driver._coalesced = True
