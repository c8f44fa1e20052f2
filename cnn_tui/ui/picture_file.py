"""Reading a picture the run is writing: only when the file changed since last time, and
never half of one (a file being replaced is skipped; the next redraw tries again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Source = tuple[str, float]  # (path, mtime) of the picture loaded


def read_if_changed(path: Path | None, loaded: Source | None) -> tuple[Any, Source] | None:
    """(PIL image, its source) when `path` is readable and differs from `loaded`, else None."""
    if path is None:
        return None
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return None
    if key == loaded:
        return None
    try:
        from PIL import Image

        with Image.open(path) as opened:
            return opened.convert("RGB"), key
    except Exception:  # PIL raises many kinds for a truncated file
        return None
