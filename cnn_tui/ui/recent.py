"""The images a user picked in the dashboard before, newest first, kept across sessions.

Stored as a JSON list in $XDG_STATE_HOME/cnn-tui/recent_images.json (default
~/.local/state): state, not configuration, so it never lands in a recipe folder. A file
that has gone since is dropped when the list is read; a broken list is an empty one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cnn_tui.contract.atomic import atomic_write_text

KEEP = 10  # the chooser shows at most this many


def recent_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cnn-tui" / "recent_images.json"


def load_recent(path: Path | None = None) -> list[Path]:
    path = path or recent_file()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(entries, list):
        return []
    return [Path(e) for e in entries if isinstance(e, str) and Path(e).is_file()][:KEEP]


def remember(image: Path, path: Path | None = None) -> list[Path]:
    """Put `image` first (once) and save; a state folder we cannot write is not an error."""
    path = path or recent_file()
    image = image.resolve()
    entries = [image] + [p for p in load_recent(path) if p != image]
    try:
        atomic_write_text(path, json.dumps([str(p) for p in entries[:KEEP]], indent=1))
    except OSError:
        pass
    return entries[:KEEP]
