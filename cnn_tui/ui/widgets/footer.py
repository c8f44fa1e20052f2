"""The key bar at the bottom of every screen: what Textual's Footer shows, drawn by one widget.

Textual's Footer is a scrolling container of one widget per key (and one for the command palette's
key): the run screen's eleven keys were twelve widgets, and a widget costs Textual ~80 us of every
full frame whatever it shows (its styles, background and crop worked out again), ~1 ms of the
~19 ms frame issue 31 budgets at 20. It also recomposed (unmounted its keys and mounted new ones,
each styled anew) on every `bindings_updated` signal, which a screen sends each time the focus
moves: every tab on the run screen rebuilt an identical footer (a third of the dashboard's CPU while
the user tabbed under a training load on 2 cores).

This one draws the same cells (a test compares them with Textual's Footer on the app's screens) in
one line of strips, rebuilt only when the keys, the size, the scroll or the key under the mouse
change, and behaves as Textual's does: a click presses the key (a bell if it is disabled), the key
under the mouse is highlighted and shows its tooltip, the wheel scrolls keys that do not fit, and
the command palette's key keeps to the right edge. Bindings are drawn one key per action (the first
binding of each, as Textual's Footer does); the app declares no binding groups, which Textual's
Footer would draw as one label for several keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import ActiveBinding, Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


def shown_keys(active: Mapping[str, ActiveBinding]) -> tuple[tuple[Any, ...], ...]:
    """What a footer may show of a screen's active bindings: each one's key, action, label, whether it
    shows, its group and tooltip and whether it is enabled, in order."""
    return tuple((binding.key, binding.key_display, binding.action, binding.description, binding.show,
                  binding.group, binding.tooltip, enabled, tooltip)
                 for _node, binding, enabled, tooltip in active.values())


@dataclass(frozen=True)
class Key:
    """One key as the bar shows it."""

    key: str  # what a click presses
    display: str  # how the key is written (the app's key display: "^p", "tab")
    description: str
    enabled: bool
    tooltip: str


@dataclass(frozen=True)
class Span:
    """Where a key was drawn on the line: cells [start, end) of the widget."""

    start: int
    end: int
    key: Key


class Footer(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--hover", "footer--palette-edge"}
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    Footer > .footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    Footer > .footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    Footer > .footer--hover {
        color: $footer-key-foreground;
        background: $block-hover-background;
    }
    Footer > .footer--palette-edge {
        color: $foreground 20%;
    }
    """

    show_command_palette = reactive(True)
    """Show the key that opens the command palette, at the right edge (as Textual's Footer does)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None, show_command_palette: bool = True) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(Footer.show_command_palette, show_command_palette)
        self._shown: tuple[tuple[Any, ...], ...] | None = None  # the bindings the keys were made from
        self.keys: tuple[Key, ...] = ()
        self.palette: Key | None = None
        self.spans: list[Span] = []  # where each key is on the line, as last drawn
        self._scroll = 0  # cells of keys scrolled off to the left (the wheel)
        self._overflow = 0  # cells of keys that did not fit, as last drawn (how far the wheel goes)
        self._hover: Key | None = None
        self._strip: Strip | None = None
        self._strip_for: tuple[Any, ...] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)  # the keys come with it

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """The screen's keys may have changed (the focus moved, a key was enabled): redrawn only if
        what the bar shows did."""
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            return
        active = screen.active_bindings  # worked out anew (every check_action asked) at each reading
        shown = shown_keys(active)
        if shown == self._shown:
            return  # the same keys (the focus moved, say): nothing to redraw
        self._shown = shown
        self.keys, self.palette = self._keys(active)
        self.refresh()

    def _keys(self, active: Mapping[str, ActiveBinding]) -> tuple[tuple[Key, ...], Key | None]:
        app = self.app
        first: dict[str, Key] = {}  # action -> its first shown binding's key
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in first:
                first[binding.action] = self._key(binding, enabled, tooltip)
        palette = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, tooltip = found
                palette = self._key(binding, enabled, binding.tooltip or binding.description)
        return tuple(first.values()), palette

    def _key(self, binding: Binding, enabled: bool, tooltip: str) -> Key:
        return Key(binding.key, self.app.get_key_display(binding), binding.description, enabled, tooltip)

    def watch_show_command_palette(self) -> None:
        if self.is_attached:
            self._shown = None
            self.bindings_changed(self.screen)

    # ------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        key = (width, base, self.keys, self.palette, self._scroll, self._hover)
        if self._strip is None or key != self._strip_for:
            self._strip, self._strip_for = self._draw(width, base), key
        return self._strip if y == 0 else Strip.blank(width, base)

    def _draw(self, width: int, base: Style) -> Strip:
        """The keys left to right from the scroll offset, cut at the palette's key (or the edge)."""
        key_style = self.get_component_rich_style("footer--key")
        description_style = self.get_component_rich_style("footer--description")
        hover = self.get_component_rich_style("footer--hover")
        cells: list[Segment] = []
        spans: list[Span] = []
        x = -self._scroll
        for item in self.keys:
            pieces = self._pieces(item, base, key_style, description_style, hover)
            length = sum(cell_len(text) for text, _ in pieces)
            spans.append(Span(x, x + length, item))
            cells.extend(Segment(text, style) for text, style in pieces)
            x += length
        blank = Style(bgcolor=base.bgcolor)  # past the keys (as Textual fills a container: no colour)
        line = Strip(cells).crop(self._scroll, self._scroll + width).adjust_cell_length(width, blank)
        room = width
        if self.palette is not None:
            edge = self.get_component_rich_style("footer--palette-edge")
            pieces = [("▏", base + Style(color=edge.color)),
                      *self._pieces(self.palette, base, key_style, description_style, hover, compact=True),
                      (" ", blank)]  # its padding
            length = sum(cell_len(text) for text, _ in pieces)
            start = room = max(0, width - length)
            right = Strip([Segment(text, style) for text, style in pieces]).crop(0, width - start)
            line = Strip.join([line.crop(0, start), right])
            spans = [s for s in spans if s.start < start] + [Span(start + 1, width, self.palette)]
        self.spans = spans
        self._overflow = max(0, x + self._scroll - room)
        return line

    def _pieces(self, item: Key, base: Style, key_style: Style, description_style: Style, hover: Style,
                compact: bool = False) -> list[tuple[str, Style]]:
        """A key's cells as Textual's FooterKey draws them: " key " then "description ", or compact (the
        palette's key): "key" then " description"."""
        under = base + Style(dim=True) if not item.enabled else base
        if item == self._hover:
            under = under + Style(color=hover.color, bgcolor=hover.bgcolor)
            key_style, description_style = key_style + Style(bgcolor=hover.bgcolor), description_style + Style(
                bgcolor=hover.bgcolor)
        if not item.description:
            return [(item.display, under + key_style)]
        if compact:
            return [(item.display, under + key_style), (f" {item.description}", under + description_style)]
        return [(f" {item.display} ", under + key_style), (f"{item.description} ", under + description_style)]

    # ------------------------------------------------------------------ mouse
    def _key_at(self, x: int) -> Key | None:
        for span in reversed(self.spans):  # the palette's key (last) lies over the others
            if span.start <= x < span.end:
                return span.key
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._key_at(event.x)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._key_at(event.x))

    def on_leave(self, _event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, item: Key | None) -> None:
        if item != self._hover:
            self._hover = item
            self.tooltip = item.tooltip if item is not None and item.tooltip else None
            self.refresh()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(4, event)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-4, event)

    def _scroll_by(self, cells: int, event: events.MouseEvent) -> None:
        """The wheel moves keys that do not fit (as Textual's Footer scrolls)."""
        scroll = min(self._overflow, max(0, self._scroll + cells))
        if scroll != self._scroll:
            self._scroll = scroll
            self.refresh()
            event.stop()
            event.prevent_default()
