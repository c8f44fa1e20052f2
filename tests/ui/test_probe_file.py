"""N on a finished run: choose any image file in a file tree; its views are drawn by `cnn-tui views
RUN --image PATH` (the process itself is tested in tests/e2e/test_views_command.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import wait_until
from tests.ui.test_inside_screen import views_app
from tests.ui.test_learned_screen import LEARNED_RUN


@pytest.mark.timeout(60)
async def test_N_asks_for_an_image_file_and_draws_its_views():
    from cnn_tui.ui.screens.image_chooser import ImageChooser

    async with views_app(LEARNED_RUN).run_test(size=(160, 48)) as pilot:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        asked: list = []
        screen.draw_probe = lambda run_dir, probe: asked.append((run_dir, probe))
        await pilot.press("w", "N")
        await pilot.pause()
        chooser = pilot.app.screen
        assert isinstance(chooser, ImageChooser) and chooser.role == "probe"
        chooser.dismiss(Path("cat.jpg"))
        await pilot.pause()
        assert asked == [(LEARNED_RUN, ["--image", "cat.jpg"])]
        await pilot.press("N")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing drawn
        await pilot.pause()
        assert pilot.app.screen is screen and len(asked) == 1
