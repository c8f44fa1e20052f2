"""A text pane drawn from the latest event of one kind: re-rendered only when that event or the
pane's width changed, so the run screen's redraws cost nothing in between."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import Static

from cnn_tui.ui.view import DrawsRun, RunView


class EventText(Static, DrawsRun):
    when_shown: ClassVar[bool] = True
    _shown: tuple | None = None

    def latest(self, view: RunView) -> Any:
        raise NotImplementedError

    def text(self, event: Any, width: int) -> Text:
        raise NotImplementedError

    def draw(self, view: RunView) -> None:
        event = self.latest(view)
        width = self.size.width or 80
        key = (id(event), width)
        if key != self._shown:
            self._shown = key
            self.update(self.text(event, width))
