"""Checkpoints: written atomically (temp file, fsync, rename), read with weights_only=True.

A kill at any moment leaves the previous good file readable; a full disk leaves it
untouched and reports the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cnn_tui.atomic import atomic_write
from cnn_tui.errors import CnnTuiError
from cnn_tui.stopping import shielded


class CheckpointError(CnnTuiError):
    exit_code = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Shielded: a second Ctrl+C lets the save finish (a complete new file, no temp left), then quits."""
    try:
        with shielded():
            atomic_write(path, lambda f: torch.save(state, f))
    except (OSError, RuntimeError) as exc:
        kept = "the previous checkpoint is kept" if path.exists() else f"no {path.name} was written before"
        raise CheckpointError(f"{path}: could not write the checkpoint ({exc}); {kept}") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint here") from None
    except Exception as exc:  # unpickling errors come in many types
        lines = str(exc).strip().splitlines()  # torch's own messages run to a dozen lines
        first = lines[0].split(". ")[0][:120] if lines else ""
        raise CheckpointError(f"{path}: not a readable cnn-tui checkpoint ({type(exc).__name__}: {first})") from None
