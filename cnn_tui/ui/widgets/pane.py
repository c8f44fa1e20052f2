"""A titled, focusable box: the unit the run screen lays out, cycles through and maximises."""

from __future__ import annotations

from textual.containers import Vertical


class Pane(Vertical):
    can_focus = True

    def __init__(self, title: str, *children, id: str) -> None:
        super().__init__(*children, id=id)
        self.border_title = title
        self.title = title
