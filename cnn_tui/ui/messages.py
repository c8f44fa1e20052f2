"""What the screens ask of the app, as messages (Textual's idiom, as in toolong): a screen
never calls the app's own methods; the app, which owns the runs folder and the screen
stack, handles these with @on.

None of these is high-rate: training events never travel as messages. A worker folds them
into the RunState and a timer draws it, so there is nothing to coalesce with can_replace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message


@dataclass
class StartRecipe(Message):
    """Run this recipe in a child process and watch it."""

    recipe: Path
    overrides: tuple[str, ...] = ()  # --set FIELD=VALUE for the run, e.g. the chosen style image


@dataclass
class OpenRun(Message):
    """Open (and follow, if still live) this run directory."""

    run_dir: Path


@dataclass
class OpenRuns(Message):
    """Open several runs together: compared, the others overlaid on the first's curves."""

    run_dirs: list[Path]


@dataclass
class ShowRuns(Message):
    """List the runs folder; with `chosen`, pick one and hand it back (the run screen's overlay)."""

    chosen: Callable[[Path | None], None] | None = field(default=None)


@dataclass
class LeaveScreen(Message):
    """Back to the screen below, or quit when this is the first one the user saw."""
