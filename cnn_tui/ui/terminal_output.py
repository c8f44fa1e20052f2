"""Fewer bytes to the terminal for the same screen: every piece of text Textual writes comes wrapped
in its own colour codes and a reset (`ESC[<style>m text ESC[0m`), so a chart row of twenty pieces
in the pane's colours repeats the same ~40-byte truecolour code twenty times. Over SSH those bytes
are most of what a live run costs (benchmarks/cases/wire.py counts them).

`coalesce_sgr` drops a reset that is followed, before anything is painted, by the very style it
reset (and folds a reset into the style that follows it): the terminal ends in the same state cell
for cell. Cursor moves do not paint, so a style carries across them; anything else (erasing, modes,
queries) gets the reset first, and every write ends reset, as Textual's own output does.

Written here rather than taken from a library: it is a filter on Textual's output stream, which no
terminal library offers, and it is small.
"""

from __future__ import annotations

import re

ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")
MOVES = frozenset("HfABCDGd")  # cursor positioning: paints nothing
RESET = "\x1b[0m"
UNKNOWN = "?"  # the style in effect when a write starts: whatever the last one left


def coalesce_sgr(data: str) -> str:
    """The same screen, with each reset that the next style undoes left out."""
    if "\x1b[0m" not in data:
        return data
    out: list[str] = []
    active: str | None = UNKNOWN  # the SGR parameters in effect since the last reset (None: reset)
    pending = False  # a reset is owed before the next thing that paints
    at = 0
    for match in ESCAPE.finditer(data):
        if match.start() > at:  # text: it paints in the style owed
            if pending:
                out.append(RESET)
                active, pending = None, False
            out.append(data[at:match.start()])
        at = match.end()
        params, final = match.group(1), match.group(2)
        if final == "m" and params is not None and "?" not in params:
            if params in ("", "0"):
                if active is UNKNOWN:  # what an earlier write left is not known: reset it
                    out.append(RESET)
                    active = None
                pending = active is not None
            elif pending and params == active:
                pending = False  # reset, then the same style again: neither is needed
            elif pending:
                out.append(f"\x1b[0;{params}m")
                active, pending = params, False
            else:
                out.append(match.group(0))
                active = UNKNOWN if active is UNKNOWN else params if active is None else f"{active};{params}"
        elif final in MOVES and params is not None and "?" not in params:
            out.append(match.group(0))
        else:
            if pending:
                out.append(RESET)
                active, pending = None, False
            out.append(match.group(0))
    if at < len(data):
        if pending:
            out.append(RESET)
            active, pending = None, False
        out.append(data[at:])
    if pending:
        out.append(RESET)
    return "".join(out)


def install(app: object) -> None:
    """Filter everything the app's driver writes (a headless or web driver too: the output stays
    valid ANSI). Textual has no hook for this, so its driver's `write` is wrapped."""
    driver = getattr(app, "_driver", None)
    if driver is None or getattr(driver, "_coalesced", False):
        return
    write = driver.write

    def coalesced(data: str) -> None:
        write(coalesce_sgr(data))

    driver.write = coalesced
    driver._coalesced = True
