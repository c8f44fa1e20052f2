"""Checkpoints: written atomically (temp file, fsync, rename), read with weights_only=True.

A kill at any moment leaves the previous good file readable; a full disk leaves it
untouched and reports the error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

from cnn_tui.errors import CnnTuiError


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


FILE_MODE = 0o666 & ~_umask()  # what open() would have given; mkstemp makes files 0600


class CheckpointError(CnnTuiError):
    exit_code = 1


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    """Write through `write(fileobj)` into a temp file beside `path`, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), mode="w")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    try:
        atomic_write(path, lambda f: torch.save(state, f))
    except (OSError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: could not write the checkpoint ({exc}); "
                              "the previous checkpoint is kept") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint here") from None
    except Exception as exc:  # unpickling errors come in many types
        raise CheckpointError(f"{path}: not a readable cnn-tui checkpoint ({exc})") from None
