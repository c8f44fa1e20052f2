"""Pictures at full resolution where the terminal has graphics, half-block cells elsewhere
(tmux, pipes, dumb terminals, snapshot tests), and one clear line for a bad setting."""

from __future__ import annotations

import pytest

from cnn_tui.contract.errors import UsageError
from cnn_tui.ui.picture_mode import ENV, requested_mode
from tests.ui.test_style_screen import replayed, style_app


@pytest.mark.parametrize(("env", "tty", "expected"), [
    ({"TERM": "xterm-kitty"}, True, "probe"),  # only the terminal can say
    ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True, "probe"),
    ({"TERM": "xterm-256color", "WT_SESSION": "1"}, True, "probe"),
    ({"TERM": "xterm-256color"}, True, "halfblock"),  # no sign of graphics: no 0.1 s questions
    ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, True, "halfblock"),  # the brief's tmux rule
    ({"TERM": "xterm-256color"}, False, "halfblock"),  # output into a pipe or file
    ({"TERM": "dumb"}, True, "halfblock"),
    ({"TERM": "xterm", ENV: "HalfBlock"}, True, "halfblock"),
    ({"TERM": "xterm", "TMUX": "x", ENV: "kitty"}, True, "kitty"),  # asked for: passthrough is the user's
    ({"TERM": "xterm", ENV: "sixel"}, False, "sixel"),
])
def test_the_mode_follows_the_terminal_and_the_setting(env, tty, expected):
    assert requested_mode(env, tty) == expected


def test_a_bad_setting_is_one_line_naming_it():
    with pytest.raises(UsageError, match=rf"^{ENV}=iterm: not a picture mode; allowed: auto, halfblock, kitty, sixel$"):
        requested_mode({ENV: "iterm"}, True)


@pytest.mark.parametrize("mode", ["kitty", "sixel"])
async def test_graphics_mode_shows_the_run_pictures_through_textual_image(mode):
    from textual_image.widget import SixelImage, TGPImage

    from cnn_tui.ui.widgets.graphics_image import GraphicsImageView

    app = style_app()
    app.picture_mode = mode
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await replayed(pilot, app)
        latest = screen.query_one("#img-latest", GraphicsImageView)
        shown = latest.query_one(".picture")
        assert isinstance(shown, SixelImage if mode == "sixel" else TGPImage)
        assert shown.image is latest.picture and latest.caption == "final image"
        assert screen.query_one("#img-content", GraphicsImageView).picture.size == (96, 64)
