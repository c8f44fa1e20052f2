"""The layout of an image_folder recipe's data: class folders (layout.py), or labels read from file
names (by_name.py, which builds on layout.py; joined here so that neither imports the other)."""

from __future__ import annotations

from typing import Any

from cnn_tui.data.by_name import named_layout
from cnn_tui.data.layout import FolderLayout
from cnn_tui.data.layout import scan as scan_folders


def scan(data: Any) -> FolderLayout:
    """What the recipe's data folders hold (raises DataError with one line where they cannot be used)."""
    return scan_folders(data, named_layout)
