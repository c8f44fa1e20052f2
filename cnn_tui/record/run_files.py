"""Which folders are runs, and the one-line errors for those that are not (or are too new)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import WIRE_VERSION
from cnn_tui.contract.user_code import check_before_import
from cnn_tui.recipes.families import ClassifierRecipe
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.record.rundir import EVENTS, RECIPE, RunDir

WHAT_A_RUN_IS = "a run directory is what `cnn-tui run` writes, e.g. runs/scratch_cnn-20261202-101500-ab12"


def check_run_dir(path: Path) -> Path:
    """`path` if it holds an events.jsonl; a UsageError naming it otherwise."""
    if not path.exists():
        raise UsageError(f"{path}: no such run directory ({WHAT_A_RUN_IS})")
    if not path.is_dir():
        raise UsageError(f"{path}: not a run directory but a file ({WHAT_A_RUN_IS})")
    if not (path / EVENTS).is_file():
        raise UsageError(f"{path}: not a run directory: it has no {EVENTS} ({WHAT_A_RUN_IS})")
    return path


def refuse_newer(run_dir: Path, version: int | None) -> None:
    """A run written by a newer cnn-tui: say so, rather than show a run with its events missing."""
    if version is not None:
        raise UsageError(f"{run_dir / EVENTS}: written with event version {version}, newer than this cnn-tui "
                         f"reads (up to {WIRE_VERSION}); upgrade cnn-tui to read this run")


def check_readable(path: Path) -> Path:
    """A run directory this cnn-tui can read: one line for a folder that is not a run, or one whose
    first event was written by a newer cnn-tui (the dashboard would otherwise show it empty)."""
    import json

    check_run_dir(path)
    with open(path / EVENTS, encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    try:
        version = json.loads(first).get("v") if first.endswith("\n") else None
    except (ValueError, AttributeError):
        version = None
    refuse_newer(path, version if isinstance(version, int) and version > WIRE_VERSION else None)
    return path


def classifier_run_recipe(run_dir: Path, purpose: str, trust: bool = False,
                          say: Callable[[str], None] | None = None) -> ClassifierRecipe:
    """The recipe of a run that trained a classifier (`predict`, `export --model`); one line otherwise.
    Where its model is the user's own Python file, `say` is told which file is about to be imported,
    and a file changed since the run is refused unless `trust` (see cnn_tui.contract.user_code)."""
    if not run_dir.is_dir():
        what = "not a run directory but a file" if run_dir.exists() else "no such run directory"
        raise UsageError(f"{run_dir}: {what} ({WHAT_A_RUN_IS})")
    if not (run_dir / RECIPE).is_file():
        raise UsageError(f"{run_dir}: not a run directory (it has no {RECIPE})")
    recipe, _ = load_recipe(str(run_dir / RECIPE))
    if not isinstance(recipe, ClassifierRecipe):
        raise UsageError(f"{run_dir}: a style-transfer run optimises one image and has no classifier, so no "
                         f"model to {purpose}; its images are in {RunDir(run_dir).images}")
    notice = check_before_import(run_dir, recipe, trust, purpose)
    if notice and say is not None:
        say(notice)
    return recipe
