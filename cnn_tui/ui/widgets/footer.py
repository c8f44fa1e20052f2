"""The key bar at the bottom of every screen: Textual's Footer, rebuilt only when what it shows changes.

Textual's Footer recomposes (unmounts its keys and mounts new ones, each styled anew) on every
`bindings_updated` signal, and a screen sends one each time the focus moves. On the run screen
tab moves the focus to the next pane, so every tab rebuilt a footer identical to the one shown:
under a training load on 2 cores that was a third of the dashboard's CPU while the user tabbed
through the panes, and much of the garbage its collector paused for (issue 31, case 4).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


def shown_keys(screen: Screen[Any]) -> tuple[tuple[Any, ...], ...]:
    """What a footer on `screen` may show now: each active binding's key, action, label, whether it
    shows, its group and tooltip and whether it is enabled, in order."""
    return tuple((binding.key, binding.key_display, binding.action, binding.description, binding.show,
                  binding.group, binding.tooltip, enabled, tooltip)
                 for _node, binding, enabled, tooltip in screen.active_bindings.values())


class Footer(TextualFooter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[tuple[Any, ...], ...] | None = None  # the keys of the last rebuild asked for

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            shown = shown_keys(screen)
            if shown == self._shown:
                return  # the same keys: nothing to rebuild (the focus moved, say)
            self._shown = shown
        super().bindings_changed(screen)
