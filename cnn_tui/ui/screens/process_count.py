"""The picker's start dialog (`n`): start the recipe on N processes (data-parallel through torchrun;
each process takes the recipe's batch, so a step sees N times as many images)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import Integer
from textual.widgets import Input, Static

MOST = 64  # processes on one node


class ProcessCount(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: int) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Start on how many processes?", id="question")
            yield Static(f"1 trains as usual. 2..{MOST} train data-parallel (torch.distributed through torchrun: "
                         "one per GPU, or gloo on CPU); each process takes the recipe's batch, and the "
                         "learning rate is not scaled.\n[b]enter[/b] start the run  [b]esc[/b] cancel")
            yield Input(str(self.current), type="integer", validators=[Integer(1, MOST)], id="nproc")
            yield Static("", id="problem")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        if event.validation_result is not None and not event.validation_result.is_valid:
            self.query_one("#problem", Static).update(f"[red]a whole number from 1 to {MOST}[/red]")
            return
        self.dismiss(int(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
