"""A titled, focusable box: the unit the run screen lays out, cycles through and maximises."""

from __future__ import annotations

from textual.containers import Vertical


class Pane(Vertical):
    can_focus = True

    def __init__(self, title: str, *children, id: str) -> None:
        super().__init__(*children, id=id)
        self.border_title = title
        self.title = title

    def watch_has_focus(self, _has_focus: bool) -> None:
        """No restyle: a pane shows it has the focus by its -current class, which the run screen sets as
        the focus moves (tab, or a click: on_descendant_focus). Textual's restyle of the pane and all it
        holds on each focus change was half the restyling of a tab, every tab (issue 31, case 4)."""
