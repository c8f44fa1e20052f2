"""Checkpoints: written atomically (temp file, fsync, rename), read with weights_only=True.

A kill at any moment leaves the previous good file readable; a full disk leaves it
untouched and reports the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import torch

from cnn_tui.contract.atomic import atomic_write
from cnn_tui.contract.errors import CnnTuiError
from cnn_tui.engine.stopping import shielded


class CheckpointError(CnnTuiError):
    exit_code = 1


class _Watched:
    """The file torch.save writes to, keeping the OSError of a failed write: torch turns it into
    a RuntimeError that says only "unexpected pos 64 vs 0", where the user needs "No space left"."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        self.handle.flush()


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Shielded: a second Ctrl+C lets the save finish (a complete new file, no temp left), then quits."""
    watched: list[_Watched] = []

    def write(handle: IO[bytes]) -> None:
        watched.append(_Watched(handle))
        torch.save(state, watched[-1])  # type: ignore[arg-type]  # write() and flush() are all it uses

    try:
        with shielded():
            atomic_write(path, write)
    except (OSError, RuntimeError) as exc:
        cause = next((w.error for w in watched if w.error is not None), exc)
        said = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        kept = "the previous checkpoint is kept" if path.exists() else f"no {path.name} was written before"
        raise CheckpointError(f"{path}: could not write the checkpoint ({said}); {kept}") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
        return state
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint here") from None
    except Exception as exc:  # unpickling errors come in many types
        lines = str(exc).strip().splitlines()  # torch's own messages run to a dozen lines
        first = lines[0].split(". ")[0][:120] if lines else ""
        raise CheckpointError(f"{path}: not a readable cnn-tui checkpoint ({type(exc).__name__}: {first})") from None
