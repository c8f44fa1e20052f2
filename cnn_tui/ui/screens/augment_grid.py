"""The picker's `a`: `cnn-tui augment` on the highlighted recipe, shown in place (one training
image top-left, then what data.augment makes of it), so a learner sees that a vertically
flipped 6 reads as a 9 before training on it. The grid comes from the describe helper as a
temporary PNG; it is read once and deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from cnn_tui.ui.widgets.image_view import ImageView


class AugmentGrid(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,a", "dismiss", "Close")]
    DEFAULT_CSS = """
    AugmentGrid { align: center middle; }
    AugmentGrid > #augment-box { width: 90%; height: 90%; border: round $accent; background: $surface; }
    """

    def __init__(self, recipe_name: str, picture: Path, what: str) -> None:
        super().__init__()
        self.recipe_name = recipe_name
        self.picture = picture
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="augment-box"):
            yield Static(f"[b]{self.recipe_name}[/b]: data.augment at work   [dim]esc closes[/dim]",
                         id="augment-title")
            yield ImageView("no picture", role="augment", id="augment-grid")

    def on_mount(self) -> None:
        view = self.query_one(ImageView)
        view.show(self.picture, self.what)
        shutil.rmtree(self.picture.parent, ignore_errors=True)  # read into memory: the temporary file goes
