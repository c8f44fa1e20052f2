"""What a tab costs the dashboard (issue 31, case 4): under a training load on 2 cores every
millisecond of the UI's CPU is latency the user sees. A tab moves the focus and the current pane;
it must not rebuild the footer (unchanged keys), restyle a pane on its focus as well as on its
class, or restyle the whole screen on a page change."""

from __future__ import annotations

import pytest
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen

from cnn_tui.ui.widgets.footer import Footer
from tests.ui.conftest import wait_until
from tests.ui.test_footer import shown
from tests.ui.test_inside_screen import views_app

PANES_ON_BOTH_PAGES = 16  # more tabs than the curves page has panes: the walk changes page too

pytestmark = pytest.mark.timeout(120)


async def _replayed(pilot):
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.state.finished is not None, what="the replay")
    await pilot.pause()
    return screen


async def test_a_tab_rebuilds_no_footer_whose_keys_are_unchanged(monkeypatch):
    rebuilt: list[Footer] = []
    keys = Footer._keys

    def counted(self, active):
        rebuilt.append(self)
        return keys(self, active)

    monkeypatch.setattr(Footer, "_keys", counted)
    async with views_app().run_test(size=(80, 24)) as pilot:
        screen = await _replayed(pilot)
        rebuilt.clear()
        titles = set()
        for _ in range(PANES_ON_BOTH_PAGES):
            await pilot.press("tab")
            await pilot.pause()
            titles.add(screen.panes[screen.current].title)
        assert len(titles) >= 8  # the focus did move, pane by pane
        assert rebuilt == []
        assert "Next pane" in shown(screen.query_one(Footer))


async def test_the_footer_is_rebuilt_when_its_keys_change(monkeypatch):
    """The picker shows c and s (the images) for a style recipe only: moving onto one changes the keys."""
    from textual.widgets import OptionList

    from cnn_tui.ui.app import CnnTuiApp

    async with CnnTuiApp().run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        picker = pilot.app.screen
        footer = picker.query_one(Footer)

        await wait_until(pilot, lambda: "Processes" in shown(footer), what="the footer of a classifier recipe")
        assert "Content image" not in shown(footer)
        options = picker.query_one(OptionList)
        options.highlighted = next(i for i in range(options.option_count)
                                   if picker.recipes[int(options.get_option_at_index(i).id or 0)]["name"]
                                   == "style_transfer_random_net" and not options.get_option_at_index(i).disabled)
        await wait_until(pilot, lambda: "Content image" in shown(footer), what="the style recipe's keys")
        assert "Processes" not in shown(footer)


async def test_a_tab_restyles_the_two_panes_it_moves_between_and_nothing_else(monkeypatch):
    restyled: list[list] = []
    update = Stylesheet.update_nodes

    def counted(self, nodes, animate=False):
        nodes = list(nodes)
        restyled.append(nodes)
        return update(self, nodes, animate)

    monkeypatch.setattr(Stylesheet, "update_nodes", counted)
    async with views_app().run_test(size=(80, 24)) as pilot:
        screen = await _replayed(pilot)
        restyled.clear()
        for _ in range(PANES_ON_BOTH_PAGES):  # a page change (v's page, then back) on the way
            await pilot.press("tab")
            await pilot.pause()
        assert not any(isinstance(node, Screen) for nodes in restyled for node in nodes), \
            "a tab restyled the whole screen"
        assert len(restyled) <= 2 * PANES_ON_BOTH_PAGES, f"{len(restyled)} restyles for {PANES_ON_BOTH_PAGES} tabs"
        assert screen.query_one("#inside").display != screen.query_one("#panes").display
