"""Asked when quitting with a live run: stop it cleanly, leave it running on its own, or stay.

Every run is a process of its own, so leaving it is the default (enter); `--stop-on-exit` makes
stopping the default. The default is also what happens when the dashboard goes without asking
(its terminal closed, the SSH connection dropped)."""

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

    def __init__(self, default: str = "detach") -> None:
        super().__init__()
        self.default = default  # "detach" or "stop"

    def compose(self) -> ComposeResult:
        stop, leave = ("  [i](default, enter)[/i]" if self.default == choice else "" for choice in ("stop", "detach"))
        with Vertical(id="dialog"):
            yield Static("A run is still training.", id="question")
            yield Static(f"[b]s[/b] stop it (saves a checkpoint; resume later with "
                         f"[i]cnn-tui run --resume[/i]){stop}\n[b]d[/b] leave it running on its own "
                         f"(its run directory keeps filling; the runs list or [i]cnn-tui open[/i] "
                         f"attach to it again){leave}\n[b]esc[/b] stay here")
            with Horizontal(id="buttons"):
                yield Button("Stop run", id="stop", variant="error")
                yield Button("Leave running", id="detach", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(f"#{self.default}", Button).focus()  # enter presses it

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(None if choice == "cancel" else choice)
