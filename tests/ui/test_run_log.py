"""The Log pane wraps each message at the pane's own width, and again when the width changes: no
message loses its end (RichLog wraps at no less than 78 columns unless told otherwise)."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest
from textual.app import App, ComposeResult

from cnn_tui.ui.widgets.run_log import RunLog

pytestmark = pytest.mark.timeout(60)

MESSAGE = ("Grad-CAM, the feature space and the top patches not drawn at epoch 2: 0.1 s a draw against 1.4 s of "
           "training, so every 4th epoch and the last, under 2.5% of training time (views.budget)")


class LogApp(App):
    CSS = "RunLog { width: 40; height: 20; }"

    def compose(self) -> ComposeResult:
        yield RunLog(wrap=True, markup=False)


def _shown(log: RunLog) -> list[str]:
    return [strip.text.rstrip() for strip in log.lines]


async def test_a_long_message_is_wrapped_at_the_panes_width_and_again_when_it_changes():
    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(RunLog)
        state = SimpleNamespace(logs=deque([("info", MESSAGE), ("warning", "short")]), log_total=2)
        log.draw(SimpleNamespace(state=state))
        await pilot.pause()
        lines = _shown(log)
        assert max(len(line) for line in lines) <= 40
        assert " ".join(lines).replace("  ", " ").startswith("ℹ " + MESSAGE[:60])
        assert "(views.budget)" in " ".join(lines) and lines[-1].endswith("short")
        narrow = len(lines)

        log.styles.width = 90
        await pilot.pause()
        await pilot.pause()
        wide = _shown(log)
        assert len(wide) < narrow and max(len(line) for line in wide) > 40  # wrapped again, wider
        assert "(views.budget)" in " ".join(wide) and wide[-1].endswith("short")
