"""Where an export lands: refused if it exists (unless --force), and never half-written.

Everything is written under a temporary name beside the target, then renamed into place;
with --force the old file or folder is replaced only once the new one is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from cnn_tui.atomic import DIR_MODE
from cnn_tui.errors import UsageError


def refuse_existing(target: Path, force: bool) -> None:
    if target.exists() and not force:
        what = "folder" if target.is_dir() else "file"
        raise UsageError(f"{target}: the {what} exists; choose another path, or add --force to replace it")


def write_folder(target: Path, force: bool, fill: Callable[[Path], None]) -> None:
    """`fill(folder)` writes into a fresh temporary folder that then becomes `target`."""
    refuse_existing(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        staging.chmod(DIR_MODE)  # mkdtemp's folders are private; an export is shared like any folder
        fill(staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_file(target: Path, force: bool, fill: Callable[[Path], None]) -> None:
    """`fill(path)` writes a temporary file beside `target`, which then replaces it."""
    refuse_existing(target, force)
    if target.is_dir():
        raise UsageError(f"{target}: is a folder; give a file path for the model")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        path = staging / target.name
        fill(path)
        os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    old = target.with_name(f".{target.name}.replaced")
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old) if old.is_dir() else old.unlink()
