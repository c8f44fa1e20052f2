"""`cnn-tui`, `cnn-tui --recipes DIR` and `cnn-tui open RUN_DIR` up to the app: what launch()
checks, and what the app it starts is given."""

from __future__ import annotations

import pytest

from cnn_tui.cli import main
from cnn_tui.ui.app import CnnTuiApp


@pytest.fixture
def started(monkeypatch):
    """The apps launch() would run, recorded instead of taking over the terminal."""
    apps: list[CnnTuiApp] = []
    monkeypatch.setattr(CnnTuiApp, "run", lambda self, *a, **k: apps.append(self))
    monkeypatch.setattr("cnn_tui.ui.picture_mode.detect_mode", lambda: "halfblock")
    return apps


def test_recipes_folder_is_added_to_the_local_one(started, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recipes").mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    assert main(["--recipes", str(mine)]) == 0
    (app,) = started
    assert [d.resolve() for d in app.recipes_dirs] == [(tmp_path / "recipes").resolve(), mine.resolve()]
    assert app.run_dirs == []


def test_without_a_local_recipes_folder_only_the_named_one(started, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--recipes", str(tmp_path)]) == 0 and started[0].recipes_dirs == [tmp_path]
    assert main([]) == 0 and started[1].recipes_dirs == []


def test_open_hands_the_run_directory_to_the_app(started, tmp_path):
    (tmp_path / "events.jsonl").write_text("")
    assert main(["open", str(tmp_path)]) == 0
    assert started[0].run_dirs == [tmp_path]


@pytest.mark.parametrize(("argv", "message"), [
    (["--recipes", "{tmp}/nope"], "--recipes {tmp}/nope: no such folder"),
    (["open", "{tmp}"], "open {tmp}: not a run directory: it has no events.jsonl (a run directory is what "
                        "`cnn-tui run` writes, e.g. runs/scratch_cnn-20261202-101500-ab12)"),
])
def test_bad_arguments_are_one_line_and_exit_2_before_any_app(started, tmp_path, capsys, argv, message):
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    assert capsys.readouterr().err == f"cnn-tui: error: {message.format(tmp=tmp_path)}\n"
    assert started == []


async def test_recipes_from_the_named_folder_are_in_the_picker(tmp_path):
    from cnn_tui.ui.screens.picker import PickerScreen
    from tests.conftest import TINY_RECIPE

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "my_tiny.yaml").write_text(TINY_RECIPE.replace("name: tiny", "name: my_tiny"))
    app = CnnTuiApp(recipes_dirs=[mine])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        found = [r for r in picker.recipes if r["name"] == "my_tiny"]
        assert found and not found[0]["builtin"] and any(r["builtin"] for r in picker.recipes)


def test_a_chart_engine_setting_that_is_not_one_is_one_line_and_exit_2(started, capsys, monkeypatch):
    monkeypatch.setenv("CNN_TUI_CHARTS", "ascii")
    assert main([]) == 2
    assert capsys.readouterr().err == \
        "cnn-tui: error: CNN_TUI_CHARTS='ascii': expected one of auto, plotext, braille\n"
    assert started == []
    monkeypatch.setenv("CNN_TUI_CHARTS", " Braille ")
    assert main([]) == 0 and len(started) == 1


async def test_the_picker_is_painted_before_its_preview_reads_a_recipe(monkeypatch):
    """The first frame is the list: the preview (the recipe read, its schemas imported: ~170 ms
    on 2 cores) comes after the picker's first paint, not before it (issue 31, start-up)."""
    from textual.app import App

    from cnn_tui.recipes import loader
    from cnn_tui.ui.screens.picker import PickerScreen

    order: list[str] = []
    display, load = App._display, loader.load_recipe

    def displayed(self, screen, renderable):
        if isinstance(screen, PickerScreen) and renderable is not None and not self._batch_count:
            order.append("paint")
        return display(self, screen, renderable)

    def loaded(*args, **kwargs):
        order.append("read")
        return load(*args, **kwargs)

    monkeypatch.setattr(App, "_display", displayed)
    monkeypatch.setattr(loader, "load_recipe", loaded)
    app = CnnTuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            if "read" in order:
                break
        assert "read" in order, "the preview never read its recipe"
        assert order.index("paint") < order.index("read"), order
        assert "scratch_cnn" in str(app.screen.query_one("#preview").render())


async def test_the_picker_throws_no_render_away_before_its_first_frame(monkeypatch):
    """Textual lays the first screen out inside its start-up batch, where a render is thrown away
    (~20 ms of the first frame on 2 cores): the picker renders nothing until it can be shown."""
    from textual.app import App

    from cnn_tui.ui.screens.picker import PickerScreen

    renders: list[bool] = []  # whether each render of the picker reached the terminal
    display = App._display

    def displayed(self, screen, renderable):
        if isinstance(screen, PickerScreen) and renderable is not None:
            renders.append(not self._batch_count)
        return display(self, screen, renderable)

    monkeypatch.setattr(App, "_display", displayed)
    app = CnnTuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, PickerScreen) and app.screen.painted:
                break
        assert app.screen.painted and renders and all(renders), renders


def test_the_dashboard_alone_is_what_the_parser_gives_without_building_it(started, tmp_path, monkeypatch):
    """`cnn-tui` skips argparse (its first frame's 10-20 ms) with the very arguments argparse would give."""
    import cnn_tui.cli as cli

    assert vars(cli.build_parser().parse_args([])) == vars(cli.DASHBOARD_ALONE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "build_parser", lambda: pytest.fail("the parser was built for `cnn-tui` alone"))
    monkeypatch.setattr(cli.sys, "argv", ["cnn-tui"])
    assert main() == 0 and main([]) == 0
    assert [app.recipes_dirs for app in started] == [[], []] and not started[0].stop_on_exit
