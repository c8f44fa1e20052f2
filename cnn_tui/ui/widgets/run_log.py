"""The Log pane: the run's messages, appended as they arrive, wrapped at the pane's width (and
wrapped again when the pane's width changes: a maximised pane, a resized terminal)."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.diagnosis import SEVERITY

KEPT = 500  # messages kept for wrapping again (the run state keeps as many)


class RunLog(RichLog, DrawsRun):
    _logged = 0  # lines of the run's log already written here

    def __init__(self, **kwargs: Any) -> None:
        # RichLog wraps at no less than min_width (78 by default): in a 64-column pane the end of
        # every long line was cut off. The pane's own width decides.
        super().__init__(min_width=1, **kwargs)
        self._messages: deque[Text] = deque(maxlen=KEPT)
        self._wrapped_at: int | None = None

    def draw(self, view: RunView) -> None:
        state = view.state
        new = state.log_total - self._logged
        if new <= 0:
            return
        for level, message in list(state.logs)[-min(new, len(state.logs)):]:
            icon, style = SEVERITY.get(level, ("•", ""))
            line = Text.assemble((f"{icon} ", style), message)
            self._messages.append(line)
            self.write(line)
        self._logged = state.log_total

    def on_resize(self, event: Resize) -> None:
        """A new width: the messages wrapped again to it (before RichLog's own handler, which writes
        what waited for the first size)."""
        width = event.size.width
        if self._wrapped_at is not None and width != self._wrapped_at and width and self._messages:
            self.clear()
            for line in self._messages:
                self.write(line, scroll_end=True)
        if width:
            self._wrapped_at = width
