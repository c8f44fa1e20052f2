"""Asked when quitting with a live run: stop it cleanly, leave it running headless, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmQuit(ModalScreen[str | None]):
    BINDINGS = [
        Binding("s", "choose('stop')", "Stop run"),
        Binding("d", "choose('detach')", "Leave running"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("A run is still training.", id="question")
            yield Static("[b]s[/b] stop it (saves a checkpoint; resume later with "
                         "[i]cnn-tui run --resume[/i])\n[b]d[/b] leave it running headless "
                         "(its run directory keeps filling; [i]cnn-tui open[/i] follows it)\n"
                         "[b]esc[/b] stay here")
            with Horizontal(id="buttons"):
                yield Button("Stop run", id="stop", variant="error")
                yield Button("Leave running", id="detach", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(None if choice == "cancel" else choice)
