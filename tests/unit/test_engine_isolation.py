"""The engine never imports Textual: the dashboard is only one consumer of its events."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import cnn_tui


def engine_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(cnn_tui.__path__, "cnn_tui."):
        if info.name.startswith("cnn_tui.ui") or info.name == "cnn_tui.__main__":
            continue
        names.append(info.name)
    return names


def test_engine_imports_without_textual():
    modules = engine_modules()
    assert {"cnn_tui.engine.runner", "cnn_tui.train.trainer", "cnn_tui.style.optimize", "cnn_tui.style.kind",
            "cnn_tui.headless.printer", "cnn_tui.parallel.launch"} <= set(modules)  # every engine package
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + (
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_help_and_list_do_not_import_torch():
    code = ("import sys\nfrom cnn_tui.cli import main\nmain(['list'])\n"
            "assert 'torch' not in sys.modules and 'pydantic' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "scratch_cnn" in result.stdout


def test_the_dashboard_never_imports_torch():
    """Training runs in a child process and layer tables come from a helper process, so the
    dashboard itself stays small (~60 MB, not ~550) and takes no CPU from a run."""
    code = """
import asyncio, sys
from cnn_tui.ui.app import CnnTuiApp
from cnn_tui.ui.screens.picker import PickerScreen

async def main():
    app = CnnTuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        for _ in range(600):  # the helper imports torch: up to a minute on a slow machine
            if picker.tables:
                break
            await pilot.pause(0.1)
        table = next(iter(picker.tables.values()))
        assert isinstance(table, tuple) and table[1] > 0, table  # rows, total params, trainable
        import cnn_tui.ui.screens.run, cnn_tui.ui.screens.style_run  # noqa: F401
    assert "torch" not in sys.modules, "the dashboard imported torch"

asyncio.run(main())
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_picker_first_frame_waits_for_no_recipe_schema():
    """Up to the picker's first frame (launch, the app, its mount) nothing imports the recipe schemas
    (pydantic: about a tenth of a second of the 500 ms start-up budget, benchmark case 5); the
    preview loads them after the first frame."""
    code = """
import sys
from unittest import mock
from cnn_tui.ui import launch
from cnn_tui.ui.app import CnnTuiApp
import cnn_tui.ui.screens.picker  # noqa: F401  (what the first frame shows)
with mock.patch.object(CnnTuiApp, "run", lambda self: None):
    launch.launch()
bad = sorted(m for m in sys.modules if m == "pydantic" or m.startswith("cnn_tui.recipes.schema"))
assert not bad, bad
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
