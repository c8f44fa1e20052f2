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


@contextlib.contextmanager
def naming_the_file(recipe_path: Path) -> Iterator[None]:
    """Errors about a recipe's fields (found after loading it) name the recipe file too."""
    try:
        yield
    except (RecipeError, DataError, DataUnavailableError) as exc:
        if str(exc).startswith(str(recipe_path)):
            raise
        raise type(exc)(f"{recipe_path}: {exc}") from None
