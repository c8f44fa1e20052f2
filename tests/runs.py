"""Real run directories for the tests that read runs back (show, export): trained once per module."""

from __future__ import annotations

from pathlib import Path

from cnn_tui.recipes.loader import load_recipe
from tests.conftest import TINY_RECIPE
from tests.helpers import run_collect


def train_tiny(folder: Path, *overrides: str, text: str = TINY_RECIPE) -> Path:
    """A finished tiny run (by default scratch: 3 epochs, gradients, a test split where asked); its run
    directory. `text`: another recipe (CACHE in it becomes a folder of the test's own)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(text.replace("CACHE", str(folder / "cache")))
    recipe, _ = load_recipe(path, list(overrides))
    result, _ = run_collect(recipe, folder / "runs")
    assert result.run_dir is not None and result.status == "completed", result.status
    return result.run_dir
