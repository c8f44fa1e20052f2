"""How the dashboard draws pictures: the terminal's own graphics (Kitty's protocol or
Sixel, through textual-image) where it has them, half-block cells everywhere else.

Decided once, before the app starts: textual-image asks the terminal what it supports by
writing escape sequences and waiting up to 0.1 s per question for the answer, which cannot
happen once Textual owns the terminal. It is only asked where the environment names a
terminal known to draw graphics (a terminal that never answers cost ~400 ms of start-up),
never inside tmux (it needs passthrough, and the answer would describe the outer terminal)
or when output is not a terminal. CNN_TUI_IMAGES overrides the choice: auto (default),
halfblock, kitty or sixel.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from cnn_tui.contract.errors import UsageError

ENV = "CNN_TUI_IMAGES"
MODES = ("auto", "halfblock", "kitty", "sixel")
# Terminals that draw Kitty-protocol or Sixel images, as their environment announces them.
GRAPHICS_TERMS = ("xterm-kitty", "xterm-ghostty", "foot", "foot-extra", "mlterm", "wezterm", "contour")
GRAPHICS_PROGRAMS = ("WezTerm", "ghostty", "iTerm.app", "mintty", "contour", "rio", "vscode")
GRAPHICS_VARIABLES = ("KITTY_WINDOW_ID", "KONSOLE_VERSION", "WT_SESSION")


def may_draw_graphics(env: Mapping[str, str]) -> bool:
    return (env.get("TERM", "") in GRAPHICS_TERMS or env.get("TERM_PROGRAM", "") in GRAPHICS_PROGRAMS
            or any(name in env for name in GRAPHICS_VARIABLES))


def requested_mode(env: Mapping[str, str], is_tty: bool) -> str:
    """The mode to use, or "probe" when only asking the terminal can tell."""
    wanted = env.get(ENV, "auto").strip().lower() or "auto"
    if wanted not in MODES:
        raise UsageError(f"{ENV}={env[ENV]}: not a picture mode; allowed: {', '.join(MODES)}")
    if wanted != "auto":
        return wanted
    if not is_tty or "TMUX" in env or not may_draw_graphics(env):
        return "halfblock"
    return "probe"


def detect_mode(env: Mapping[str, str] | None = None) -> str:
    """halfblock, kitty or sixel; imports textual-image (and so queries the terminal) only
    when the answer is not already known."""
    env = os.environ if env is None else env
    mode = requested_mode(env, bool(sys.__stdout__ and sys.__stdout__.isatty()))
    if mode == "halfblock":
        return mode
    try:
        import textual_image.renderable as found
        import textual_image.widget  # noqa: F401  (its cell-size query must run before the app starts)
    except Exception:  # no answer from the terminal, or no textual-image: our own cells still work
        return "halfblock"
    if mode == "probe":
        return {found.TGPImage: "kitty", found.SixelImage: "sixel"}.get(found.Image, "halfblock")
    return mode
