"""The dashboard's garbage collector: a full collection walks only what is new since the last one.

Python's full (generation 2) collection walks every object it tracks. In a dashboard showing a run
that is Textual's whole DOM, its styles and caches and the run's series, and a pass took 60-150 ms
under a training load on 2 cores, every few seconds: a key pressed then waited for it (the slowest
tabs of benchmark case 4). After each full collection its survivors, long-lived by then, are frozen
(`gc.freeze`: left out of later collections, still freed by their reference counts); the next pass
walks only the objects made since.

An object frozen while alive that later becomes part of a garbage cycle would stay until unfrozen:
a closed screen (whose widgets are such cycles) unfreezes everything, and so does a full pass at
least every FULL_PASS_SECONDS, so what a long session can hold this way stays bounded.
"""

from __future__ import annotations

import gc
import time
from typing import Any

FULL_PASS_SECONDS = 600.0  # at most this long between collections that walk everything

_last_full = time.monotonic()


def _after_a_collection(phase: str, info: dict[str, Any]) -> None:
    global _last_full
    if phase != "stop" or info.get("generation") != 2:
        return
    if gc.get_freeze_count() == 0:
        _last_full = time.monotonic()  # this pass walked everything
    if time.monotonic() - _last_full >= FULL_PASS_SECONDS:
        gc.unfreeze()  # the next full pass walks everything, and frees what became garbage meanwhile
    else:
        gc.freeze()


def install() -> None:
    """Freeze the survivors of each full collection (the dashboard process, once at start)."""
    if _after_a_collection not in gc.callbacks:
        gc.callbacks.append(_after_a_collection)


def uninstall() -> None:
    """Back to Python's own collector: nothing frozen, no callback (tests)."""
    if _after_a_collection in gc.callbacks:
        gc.callbacks.remove(_after_a_collection)
    gc.unfreeze()


def release() -> None:
    """A screen was closed: its widgets may be garbage now, for the next full collection to free."""
    gc.unfreeze()
