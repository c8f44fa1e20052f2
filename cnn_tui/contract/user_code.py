"""The user's own Python (`model: {arch: python, path: my_net.py}`): imported only when asked.

Training such a recipe imports its file: that is what the user asked for. Reading a run back later
(`predict`, `export --model`) imports it again, to rebuild the network, and a run folder may come
from someone else, or outlive edits to the file. So a run records the file's sha256 when it starts
(`model_source.json` beside `recipe.yaml`), and those commands say which file they are about to
import and refuse where its content is not what the run trained (or the run recorded no hash),
unless the user passes --trust.

The check compares content, not intent: a run folder made by someone else carries their hash of
their file, so the printed line (which file, which hash) is what tells the user what will run.
"""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path
from typing import Any

from cnn_tui.contract.atomic import atomic_write_text
from cnn_tui.contract.errors import UsageError

SOURCE = "model_source.json"  # in the run folder: {"path": ..., "sha256": ...}


def model_file(recipe: Any) -> Path | None:
    """The Python file a recipe's model comes from; None for every other model."""
    model = getattr(recipe, "model", None)
    if model is None or getattr(model, "arch", None) != "python" or not model.path:
        return None
    return Path(model.path)


def file_sha256(path: Path) -> str:
    """The file's sha256; OSError for anything but a regular file (a FIFO would block the read)."""
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "not a regular file", str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_source(run_dir: Path, recipe_dict: dict[str, Any]) -> None:
    """At a run's start: the hash of the file its model is imported from (nothing for other models)."""
    model = recipe_dict.get("model")
    if not isinstance(model, dict) or model.get("arch") != "python" or not model.get("path"):
        return
    path = Path(model["path"])
    try:
        digest = file_sha256(path)
    except OSError:
        return  # the run itself says the file is not there, in one line, when it builds the model
    atomic_write_text(run_dir / SOURCE, json.dumps({"path": str(path), "sha256": digest}, indent=1) + "\n")


def recorded_sha256(run_dir: Path) -> str | None:
    try:
        data = json.loads((run_dir / SOURCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    digest = data.get("sha256") if isinstance(data, dict) else None
    return digest if isinstance(digest, str) else None


def check_before_import(run_dir: Path, recipe: Any, trust: bool, purpose: str) -> str | None:
    """None where the run's model is no user code; else the line that names the file about to be
    imported. Raises UsageError where its content changed since the run (or is unknown), unless `trust`."""
    path = model_file(recipe)
    if path is None:
        return None
    try:
        now = file_sha256(path)
    except OSError as exc:
        raise UsageError(f"{run_dir}: its model is the Python file {path}, which cannot be read "
                         f"({exc.strerror or exc}); nothing to {purpose}") from None
    recorded = recorded_sha256(run_dir)
    notice = f"{run_dir}: its model is your Python code: importing {path} (sha256 {now[:12]})"
    if trust or recorded == now:
        return notice + (" (--trust)" if recorded != now else ", unchanged since the run")
    why = ("changed since the run trained it" if recorded is not None
           else f"not recorded by the run ({SOURCE} is missing), so whether it changed is unknown")
    raise UsageError(f"{run_dir}: its model is the Python file {path}, whose content is {why}; importing it "
                     f"runs that code: read it, then pass --trust to {purpose} with it")
