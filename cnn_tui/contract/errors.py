"""Errors a user can act on. Each carries one line that names what is wrong and what to do.

The CLI prints these without a traceback and exits 2 (bad input) or 1 (training failed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


class CnnTuiError(Exception):
    """Base class: an error with a message meant for the user, not a traceback."""

    exit_code = 2


class RecipeError(CnnTuiError):
    """A recipe file that is missing, unreadable, not YAML, or fails the schema."""


class DataUnavailableError(CnnTuiError):
    """A dataset or weights file that is not on disk and cannot be downloaded."""


class DataError(CnnTuiError):
    """A dataset that exists but cannot be used (empty folder, one class, corrupt files)."""


class UsageError(CnnTuiError):
    """Bad command-line usage: unknown recipe name, unreadable run directory, bad --set."""


EXCERPT_CHARS = 60  # the most of a user's file an error message quotes


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A value quoted in an error: one line, at most `limit` characters (not a whole file echoed back)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt_pair(old: object, new: object, limit: int = EXCERPT_CHARS) -> tuple[str, str]:
    """Two values quoted side by side (a change): where both would be cut to the same text (two run
    folders of one day: '/runs/tiny-20261206-…'), each is shown from a little before they differ."""
    a, b = excerpt(old, limit), excerpt(new, limit)
    if a != b or old == new:
        return a, b
    ra, rb = (" ".join(repr(v).split()) for v in (old, new))
    same = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), min(len(ra), len(rb)))
    start = max(0, same - 16)

    def cut(text: str) -> str:
        rest = text[start:]
        return "…" + (rest if len(rest) <= limit - 1 else rest[:limit - 2] + "…")

    return cut(ra), cut(rb)


class WriteError(CnnTuiError):
    """A file or folder that could not be written: a bad path the user gave (exit 2), or a disk
    that filled up while writing (exit 1: the input was fine, the machine ran out of room)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def write_failed(path: object, exc: OSError, what: str = "write") -> WriteError:
    """One line for an OSError while writing `path`: the path, the cause in words, what it means."""
    import errno

    cause = exc.strerror or str(exc) or type(exc).__name__
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return WriteError(f"{path}: could not {what} ({cause})", exit_code=1 if full else 2)


@contextlib.contextmanager
def naming_the_file(recipe_path: Path) -> Iterator[None]:
    """Errors about a recipe's fields (found after loading it) name the recipe file too."""
    try:
        yield
    except (RecipeError, DataError, DataUnavailableError) as exc:
        if str(exc).startswith(str(recipe_path)):
            raise
        raise type(exc)(f"{recipe_path}: {exc}") from None
