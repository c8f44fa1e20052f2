"""The Log pane: the run's messages, appended as they arrive (never re-written)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.diagnosis import SEVERITY


class RunLog(RichLog, DrawsRun):
    _logged = 0  # lines of the run's log already written here

    def draw(self, view: RunView) -> None:
        state = view.state
        new = state.log_total - self._logged
        if new <= 0:
            return
        for level, message in list(state.logs)[-min(new, len(state.logs)):]:
            icon, style = SEVERITY.get(level, ("•", ""))
            self.write(Text.assemble((f"{icon} ", style), message))
        self._logged = state.log_total
