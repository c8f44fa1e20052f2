"""The Diagnosis pane: what the curves say in plain words, how the run ended, its test score."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from cnn_tui.contract.status import Severity
from cnn_tui.contract.wording import format_test_score
from cnn_tui.ui.state import RunState
from cnn_tui.ui.view import DrawsRun, RunView

SEVERITY: dict[str, tuple[str, str]] = {Severity.ERROR: ("✖", "bold red"), Severity.WARNING: ("⚠", "yellow"),
                                        Severity.INFO: ("ℹ", "cyan")}


def diagnosis_text(state: RunState) -> Text:
    text = Text()
    if not state.diagnoses:
        if state.finished is not None:
            text.append("No problems found in the curves.", style="dim")
        else:
            text.append("Nothing to report yet: the curves look healthy." if state.epochs
                        else "Diagnoses appear here as the curves take shape.", style="dim")
    for d in state.diagnoses:
        icon, style = SEVERITY.get(d.severity, ("•", ""))
        text.append(f"{icon} ", style=style)
        text.append(f"{d.message}\n")
    if state.finished is not None:
        f = state.finished
        text.append(f"\nFinished: {f.status.replace('_', ' ')} — {f.reason}", style="bold")
    if state.test is not None:
        text.append(f"\n{format_test_score(state.test)}", style="bold")
    return text


class DiagnosisView(Static, DrawsRun):
    _shown: tuple[Any, ...] | None = None

    def draw(self, view: RunView) -> None:
        """Re-set only when it changed: a new text re-lays out the screen."""
        state = view.state
        key = (len(state.diagnoses), state.diagnoses[-1].message if state.diagnoses else "",
               state.finished is not None, bool(state.epochs), state.test is not None)
        if key != self._shown:
            self._shown = key
            self.update(diagnosis_text(state))
