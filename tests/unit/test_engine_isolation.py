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
    assert "cnn_tui.runner" in modules and "cnn_tui.train.trainer" in modules
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
