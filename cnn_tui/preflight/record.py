"""What a preflight check leaves behind: a small run folder the dashboard and `show` open
(recipe.yaml, events.jsonl, summary.json, made the way every run folder is, by rundir), and the
recipe copy that `lr-find --write` writes.

The copy starts with a marker line, so that `--force` replaces only a file this command wrote,
never one of the user's own recipes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cnn_tui.contract.atomic import atomic_write_text
from cnn_tui.contract.errors import UsageError, write_failed
from cnn_tui.contract.events import Event
from cnn_tui.recipes.loader import apply_override, recipe_to_dict
from cnn_tui.record import rundir

MARK = "# written by cnn-tui lr-find"  # first line of every recipe copy it writes


def write_run_folder(out: Path, name: str, recipe: Any, events: Callable[[str], Iterable[Event]],
                     summary: dict[str, Any]) -> Path:
    """A new run folder named after `name`, holding the recipe, the events (`events(run_id)`) and the
    summary: written once the check is over, so a check that fails leaves no folder half-made."""
    run_dir = rundir.create_run_dir(out, name, recipe_to_dict(recipe))
    sink = rundir.RunDirSink(run_dir)
    try:
        for event in events(run_dir.name):
            sink.emit(event)
    finally:
        sink.close()
    try:
        rundir.write_summary(run_dir, {"run_id": run_dir.name, **summary})
    except OSError as exc:
        raise write_failed(run_dir / rundir.SUMMARY, exc, "write the summary") from None
    return run_dir


def check_copy_target(target: Path, force: bool) -> None:
    """A new path, or (with --force) a copy this command wrote: refused before any training."""
    if target.is_dir():
        raise UsageError(f"--write {target}: is a folder; give a .yaml file path")
    if target.suffix not in (".yaml", ".yml"):
        raise UsageError(f"--write {target}: a recipe copy is a .yaml file; give a path ending in .yaml")
    if not target.parent.is_dir():
        raise UsageError(f"--write {target}: no such folder {target.parent}")
    if not target.exists():
        return
    if not force:
        raise UsageError(f"--write {target}: the file exists; choose another path, or add --force to replace "
                         "a copy that lr-find wrote")
    try:
        with open(target, encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
    except OSError as exc:
        raise UsageError(f"--write {target}: cannot read the file to check it ({exc.strerror or exc})") from None
    if not first.startswith(MARK):
        raise UsageError(f"--write {target}: not a recipe copy that lr-find wrote; --force replaces only those, "
                         "so nothing was changed; choose another path")


def write_recipe_copy(target: Path, recipe: Any, source: Path, field: str, lr: float, old_lr: float) -> None:
    """The recipe, fully resolved (its data paths absolute, so the copy works from any folder),
    with `field` (as --set names it) set to `lr`."""
    import yaml

    from cnn_tui.recipes.loader import validate
    from cnn_tui.recipes.yaml_io import _Dumper  # the project's YAML style (quotes where needed)

    data = recipe_to_dict(recipe)
    apply_override(data, f"{field}={lr:.3g}")
    validate(data, target)  # what is written must load again
    header = (f"{MARK} on {time.strftime('%Y-%m-%d %H:%M')} from {source}\n"
              f"# {field}: {lr:.3g} (the range test's suggestion; the recipe had {old_lr:g})\n")
    text = header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise write_failed(target, exc, "write the recipe copy") from None

