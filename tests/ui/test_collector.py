"""The dashboard's collector (ui/collector.py): the survivors of a full collection are frozen, so the
next full pass walks only what is new; a closed screen, and a full pass every FULL_PASS_SECONDS,
unfreeze them, so that garbage they became is still freed."""

from __future__ import annotations

import gc

import pytest

from cnn_tui.ui import collector

pytestmark = pytest.mark.timeout(60)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def installed():
    collector.install()
    yield
    collector.uninstall()


def test_a_full_collection_freezes_its_survivors_and_the_next_walks_only_new_objects(installed):
    kept = [_Cycle() for _ in range(1000)]
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)  # the survivors, left out from now on
    walked: list[int] = []

    def count(phase, info):
        if phase == "start" and info["generation"] == 2:
            walked.append(len(gc.get_objects(generation=2)))

    gc.callbacks.append(count)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(count)
    assert walked and walked[0] < len(kept), "the next full pass walked the frozen survivors again"


def test_garbage_is_still_freed_after_a_screen_closes(installed):
    alive = _Cycle()
    gc.collect()  # frozen
    assert gc.is_tracked(alive) and gc.get_freeze_count() > 0
    del alive  # a cycle: only a collection that walks it frees it
    collector.release()
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 1


def test_a_full_pass_walks_everything_at_least_every_so_often(installed, monkeypatch):
    gc.collect()
    assert gc.get_freeze_count() > 0
    monkeypatch.setattr(collector, "FULL_PASS_SECONDS", 0.0)
    gc.collect()  # past the interval: unfrozen, for the next pass to walk everything
    assert gc.get_freeze_count() == 0
    gc.collect()  # that pass walked everything; its survivors are frozen again (the interval restarts)
    monkeypatch.setattr(collector, "FULL_PASS_SECONDS", 600.0)
    gc.collect()
    assert gc.get_freeze_count() > 0


def test_uninstall_leaves_python_s_collector_as_it_was():
    collector.install()
    gc.collect()
    collector.uninstall()
    assert gc.get_freeze_count() == 0
    assert all(getattr(cb, "__module__", "") != collector.__name__ for cb in gc.callbacks)
    gc.collect()
    assert gc.get_freeze_count() == 0


def test_the_dashboard_runs_with_the_collector_and_leaves_without_it(monkeypatch):
    from cnn_tui.cli import main
    from cnn_tui.ui.app import CnnTuiApp

    seen: list[bool] = []
    monkeypatch.setattr(CnnTuiApp, "run", lambda self, *a, **k: seen.append(
        any(getattr(cb, "__module__", "") == collector.__name__ for cb in gc.callbacks)))
    monkeypatch.setattr("cnn_tui.ui.picture_mode.detect_mode", lambda: "halfblock")
    assert main([]) == 0
    assert seen == [True]
    assert not any(getattr(cb, "__module__", "") == collector.__name__ for cb in gc.callbacks)


async def test_closing_a_screen_unfreezes():
    from cnn_tui.ui.app import CnnTuiApp

    async with CnnTuiApp().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        gc.freeze()
        assert gc.get_freeze_count() > 0
        pilot.app.pop_screen()
        await pilot.pause()
        assert gc.get_freeze_count() == 0
