"""The key bar (ui/widgets/footer.py): one widget that draws, cell for cell, what Textual's Footer (a
widget per key) draws on the app's screens, and behaves like it under the mouse."""

from __future__ import annotations

import pytest
import textual.widgets
from textual import events
from textual.widgets import OptionList

from cnn_tui.ui.screens import picker, run, runs
from cnn_tui.ui.widgets.footer import Footer
from tests.ui.conftest import wait_until
from tests.ui.test_inside_screen import views_app

pytestmark = pytest.mark.timeout(120)

SCREENS = (picker, run, runs)  # the modules whose screens compose a footer


def cells(app) -> list[tuple[str, str]]:
    """The screen's last line as the terminal gets it: (character, style) per cell (the style as the
    terminal gets it: Textual's mouse offsets, which it keeps in a style's meta, are not sent)."""
    line = app.screen._compositor.render_update(full=True).strips[-1]
    return [(ch, str(segment.style)) for strip in line for segment in strip for ch in segment.text]


def shown(footer: Footer) -> str:
    return "".join(segment.text for segment in footer.render_line(0))


def _drawn(bar) -> bool:
    """The bar shows its keys: Textual's Footer mounts a widget per key, ours makes its list."""
    return bool(bar.children if isinstance(bar, textual.widgets.Footer) else bar.keys) and bar.region.width > 0


async def _last_line(monkeypatch, make, size, footer: type, style_recipe: bool = False):
    for module in SCREENS:
        monkeypatch.setattr(module, "Footer", footer)
    async with make().run_test(size=size) as pilot:
        screen = pilot.app.screen
        if hasattr(screen, "state"):
            await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
        if style_recipe:
            options = screen.query_one(OptionList)
            options.highlighted = next(i for i in range(options.option_count)
                                       if not options.get_option_at_index(i).disabled
                                       and screen.recipes[int(options.get_option_at_index(i).id or 0)]["kind"]
                                       == "style_transfer")
        for _ in range(4):
            await pilot.pause()
        bar = screen.query_one(footer)
        await wait_until(pilot, lambda: _drawn(bar), what="the footer's keys")
        for _ in range(4):
            await pilot.pause()
        return cells(pilot.app)


def _picker():
    from cnn_tui.ui.app import CnnTuiApp

    return CnnTuiApp()


@pytest.mark.parametrize("size", [(80, 24), (160, 40)], ids=["80x24", "160x40"])
@pytest.mark.parametrize("where", ["picker", "picker-style", "run"])
async def test_the_bar_draws_what_textuals_footer_draws(monkeypatch, size, where):
    make = views_app if where == "run" else _picker
    style = where == "picker-style"
    theirs = await _last_line(monkeypatch, make, size, textual.widgets.Footer, style)
    ours = await _last_line(monkeypatch, make, size, Footer, style)
    text = "".join(ch for ch, _ in ours)
    assert "palette" in text and ("Filter" in text or "Pause" in text)  # keys were drawn, not a blank line
    assert ours == theirs


async def _replayed_bar(pilot) -> Footer:
    """The run screen's bar once the recorded run is in and its keys are drawn."""
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
    bar = screen.query_one(Footer)
    await wait_until(pilot, lambda: "Pause" in shown(bar), what="the keys")
    return bar


async def test_a_click_presses_the_key_and_the_mouse_highlights_it():
    async with views_app().run_test(size=(160, 40)) as pilot:
        screen = pilot.app.screen
        bar = await _replayed_bar(pilot)
        span = next(s for s in bar.spans if s.key.description == "Maximise")
        before = bar.render_line(0)
        await pilot.hover(Footer, offset=(span.start + 1, 0))
        await pilot.pause()
        after = bar.render_line(0)
        changed = [x for x, (a, b) in enumerate(zip(before.divide(range(1, bar.size.width)),
                                                       after.divide(range(1, bar.size.width)))) if a != b]
        assert changed and span.start <= min(changed) and max(changed) < span.end  # that key only
        assert not screen.has_class("-maximised")
        await pilot.click(Footer, offset=(span.start + 1, 0))
        await wait_until(pilot, lambda: screen.has_class("-maximised"), timeout=10, what="m pressed by the click")


async def test_the_wheel_scrolls_keys_that_do_not_fit():
    async with views_app().run_test(size=(60, 24)) as pilot:
        bar = await _replayed_bar(pilot)
        first = shown(bar)
        assert "Curves/inside" not in first  # past the edge at 60 columns
        for _ in range(30):  # Pilot has no wheel: the event its mouse methods post, as the driver would
            await pilot._post_mouse_events([events.MouseScrollDown], Footer, offset=(5, 0))
            await pilot.pause()
        assert "Curves/inside" in shown(bar)
        assert shown(bar).rstrip().endswith("palette")  # the palette's key stays at the right edge


def _keys_app(footer: type):
    """A screen with a disabled key (check_action None) and a hidden one: the app's own screens have
    no disabled key today, a future one must draw as Textual draws it."""
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Static

    class Keys(Screen):
        BINDINGS = [Binding("a", "one", "One"), Binding("b", "two", "Two (disabled)"),
                    Binding("c", "three", "Three", show=False), Binding("d", "four", "Four")]

        def compose(self):
            yield Static("keys")
            yield footer()

        def check_action(self, action, parameters):
            return None if action == "two" else True

    class KeysApp(App):
        def on_mount(self):
            self.push_screen(Keys())

    return KeysApp()


async def test_a_disabled_key_is_drawn_as_textual_draws_it(monkeypatch):
    lines = []
    for footer in (textual.widgets.Footer, Footer):
        async with _keys_app(footer).run_test(size=(70, 5)) as pilot:
            await pilot.pause()
            bar = pilot.app.screen.query_one(footer)
            await wait_until(pilot, lambda bar=bar: _drawn(bar), what="the keys")
            for _ in range(4):
                await pilot.pause()
            lines.append(cells(pilot.app))
    text = "".join(ch for ch, _ in lines[1])
    assert "Two (disabled)" in text and "Three" not in text
    assert any("dim" in style for ch, style in lines[1] if ch == "T")
    assert lines[1] == lines[0]
