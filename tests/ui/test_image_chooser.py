"""Bring your own images: from the picker, choose a content and a style file with the
keyboard, start the recipe, and the run uses them; choices are remembered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.style_textures import write_texture
from tests.ui.conftest import wait_until
from tests.ui.test_style_screen import LIVE_STYLE, style_app


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A current directory with photos in folders whose names have spaces, and a state dir."""
    work = tmp_path / "work"
    (work / "my photos").mkdir(parents=True)
    (work / "styles").mkdir()
    (work / "notes.txt").write_text("not an image")
    Image.new("RGB", (90, 30), (200, 120, 40)).save(work / "my photos" / "wide cat.png")
    write_texture("stripes", work / "styles")
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return work


def shown_names(tree) -> set[str]:
    """The file and folder names the tree shows (loaded children of expanded folders)."""
    names, stack = set(), [tree.root]
    while stack:
        node = stack.pop()
        for child in node.children:
            names.add(child.data.path.name)
            if child.is_expanded:
                stack.append(child)
    return names


async def pick_in_tree(pilot, screen, *names: str) -> None:
    """Walk the chooser's tree: for each name, move the cursor to it and press enter."""
    tree = screen.query_one("#tree")
    tree.focus()
    for name in names:
        await wait_until(pilot, lambda name=name: name in shown_names(tree), what=f"{name} in the tree")
        while tree.cursor_node.data.path.name != name:
            await pilot.press("down")
        await pilot.press("enter")


async def test_choose_content_and_style_then_run_with_them(tmp_path, workspace):
    from cnn_tui.ui.recent import load_recent
    from cnn_tui.ui.screens.image_chooser import ImageChooser
    from cnn_tui.ui.screens.picker import PickerScreen
    from cnn_tui.ui.screens.style_run import StyleRunScreen

    folder = tmp_path / "recipes"
    folder.mkdir()
    assert "steps: 400" in LIVE_STYLE  # a replace that finds nothing would train 400 steps and time out
    (folder / "live_style.yaml").write_text(LIVE_STYLE.replace("steps: 400", "steps: 10"))
    runs = tmp_path / "runs"
    app = style_app(run_dir=None, runs_dir=runs, recipes_dirs=[folder])
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("slash", *"live_style")
        await pilot.press("tab")  # back to the list: the filter box would take the keys
        picker.query_one("#recipes").focus()
        await pilot.press("c")
        chooser = app.screen
        assert isinstance(chooser, ImageChooser) and chooser.role == "content"
        tree = chooser.query_one("#tree")
        await wait_until(pilot, lambda: "my photos" in shown_names(tree), what="the tree")
        assert shown_names(tree) == {"my photos", "styles"}  # folders and images only: no notes.txt
        await pick_in_tree(pilot, chooser, "my photos", "wide cat.png")
        await wait_until(pilot, lambda: app.screen is picker, what="the chooser to close")
        cat = (workspace / "my photos" / "wide cat.png").resolve()
        assert picker.chosen[picker.selected()["path"]] == {"content": cat}
        assert "wide cat.png" in str(picker.query_one("#preview").render())
        assert load_recent() == [cat]

        await pilot.press("s")  # the recent list comes first; tab to the tree for a new file
        chooser = app.screen
        assert chooser.role == "style" and chooser.query_one("#recent").option_count == 1
        await pick_in_tree(pilot, chooser, "styles", "stripes.jpg")
        await wait_until(pilot, lambda: app.screen is picker, what="the chooser to close")
        stripes = (workspace / "styles" / "stripes.jpg").resolve()
        assert load_recent() == [stripes, cat]

        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, StyleRunScreen)
        await wait_until(pilot, lambda: screen.state.finished is not None, timeout=120, what="the run")
        assert screen.state.status == "completed"
        (run_dir,) = runs.iterdir()
        assert Image.open(run_dir / "images" / "content.png").size == (48, 16)  # the 90x30 photo
        import yaml

        resolved = yaml.safe_load((run_dir / "recipe.yaml").read_text())
        assert (resolved["content_image"], resolved["style_image"]) == (str(cat), str(stripes))
    # the recipe file itself was not changed
    assert "sample:chelsea" in (folder / "live_style.yaml").read_text()


async def test_escape_keeps_the_recipes_images_and_other_kinds_have_no_image_keys(tmp_path, workspace):
    from tests.conftest import TINY_RECIPE

    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "live_style.yaml").write_text(LIVE_STYLE)
    (folder / "tiny.yaml").write_text(TINY_RECIPE)
    app = style_app(run_dir=None, recipes_dirs=[folder])
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.screen
        await pilot.press("slash", *"live_style")
        picker.query_one("#recipes").focus()
        await pilot.press("c", "escape")
        assert app.screen is picker and picker.chosen == {}
        await pilot.press("escape", "slash", *"tiny")  # a classification recipe
        picker.query_one("#recipes").focus()
        assert picker.selected()["name"] == "tiny"
        await pilot.press("c")
        assert app.screen is picker  # nothing to choose for this kind
    assert json.loads((tmp_path / "state" / "cnn-tui" / "recent_images.json").read_text()
                      if (tmp_path / "state" / "cnn-tui" / "recent_images.json").exists() else "[]") == []
