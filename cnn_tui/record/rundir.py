"""Run directories: unique names, the resolved recipe, events.jsonl, summary.json.

    runs/<recipe>-<YYYYmmdd-HHMMSS>-<hex>/
        recipe.yaml      the fully resolved recipe (what actually ran)
        events.jsonl     every event, appended and flushed as it happens
        summary.json     status, best and final metrics, wall time, device (at the end)
        checkpoints/     last.pt (every epoch, and on interrupt), best.pt
        images/          style-transfer snapshots
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_tui.contract.atomic import DIR_MODE, atomic_write_text, remove_stale_temps
from cnn_tui.contract.errors import write_failed
from cnn_tui.contract.events import Event
from cnn_tui.contract.sinks import JsonLinesSink
from cnn_tui.contract.user_code import record_source
from cnn_tui.contract.wire_reader import parse_lines
from cnn_tui.contract.writable import make_folder, open_on_a_fresh_line
from cnn_tui.recipes.yaml_io import dump_yaml

EVENTS = "events.jsonl"
SUMMARY = "summary.json"
RECIPE = "recipe.yaml"
CHECKPOINTS = "checkpoints"
IMAGES = "images"
LAST_FILE, BEST_FILE = "last.pt", "best.pt"  # in checkpoints/: the latest state, the best epoch's


@dataclass(frozen=True)
class RunDir:
    """One run's folder and where each of its files lies: the layout above, in one place."""

    path: Path

    @property
    def events(self) -> Path:
        return self.path / EVENTS

    @property
    def summary(self) -> Path:
        return self.path / SUMMARY

    @property
    def recipe(self) -> Path:
        return self.path / RECIPE

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @property
    def images(self) -> Path:
        return self.path / IMAGES

    def checkpoint(self, name: str) -> Path:
        """checkpoints/<name>.pt: "last" (every epoch, on interrupt, on request) or "best"."""
        return self.checkpoints / f"{name}.pt"

    @property
    def last(self) -> Path:
        return self.checkpoints / LAST_FILE

    @property
    def best(self) -> Path:
        return self.checkpoints / BEST_FILE


def create_run_dir(parent: Path, name: str, recipe_dict: dict[str, Any] | None = None) -> Path:
    """A new, never-shared folder, whole from the start: its content (checkpoints/, recipe.yaml)
    is made in a hidden temporary folder that is then renamed over the name just reserved
    (mkdir is atomic, so two runs started together differ). A write that fails (a full disk,
    a read-only folder) removes what it made: no empty run folder, no 0-byte recipe.yaml."""
    make_folder(parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", suffix=".starting", dir=parent))
    except OSError as exc:
        raise write_failed(parent, exc, "create the run folder in") from None
    path: Path | None = None
    try:
        staging.chmod(DIR_MODE)
        RunDir(staging).checkpoints.mkdir()
        if recipe_dict is not None:
            dump_yaml(recipe_dict, staging / RECIPE)
            record_source(staging, recipe_dict)  # the user's model file's hash (arch: python)
        path = _reserve_name(parent, name)
        os.replace(staging, path)  # onto the empty folder reserved: the run appears complete
        return path
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if path is not None:
            with contextlib.suppress(OSError):
                path.rmdir()  # the reserved name, still empty (rmdir removes nothing else)
        if isinstance(exc, OSError):
            raise write_failed(parent / name, exc, "create the run folder") from None
        raise


def _reserve_name(parent: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for _ in range(100):
        path = parent / f"{name}-{stamp}-{secrets.token_hex(2)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free run folder name in {parent}")


def write_recipe(run_dir: Path, recipe_dict: dict[str, Any]) -> None:
    """Replace a run's recipe.yaml whole: a full disk keeps the old one, never a 0-byte one
    (the temp name is the atomic writer's pattern, so a kill's leftover is cleaned on resume)."""
    temp = run_dir / f".{RECIPE}.{secrets.token_hex(4)}.tmp"
    try:
        dump_yaml(recipe_dict, temp)
        os.replace(temp, run_dir / RECIPE)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    record_source(run_dir, recipe_dict)


def clean_stale_temps(run_dir: Path) -> list[str]:
    """Leftovers of atomic writes that a kill cut short, in the run's folders (on start and resume)."""
    layout = RunDir(run_dir)
    return [name for folder in (run_dir, layout.checkpoints, layout.images) for name in remove_stale_temps(folder)]


def rewrite_recipe(run_dir: Path, recipe_dict: dict[str, Any]) -> None:
    """Replace a run's recipe.yaml whole or not at all (`run --resume --allow-changes`)."""
    tmp = run_dir / f".{RECIPE}.{os.getpid()}.tmp"
    try:
        dump_yaml(recipe_dict, tmp)
        os.replace(tmp, run_dir / RECIPE)
    finally:
        tmp.unlink(missing_ok=True)


class RunDirSink(JsonLinesSink):
    """Appends every event to events.jsonl, on a fresh line after a torn one (see JsonLinesSink for a full disk)."""

    def __init__(self, run_dir: Path) -> None:
        path = run_dir / EVENTS
        try:
            stream = open_on_a_fresh_line(path)
        except OSError as exc:
            raise write_failed(path, exc, "write events") from None
        super().__init__(stream, close_stream=True, name=str(path))


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    atomic_write_text(run_dir / SUMMARY, json.dumps(summary, indent=2) + "\n")


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_events(run_dir: Path) -> list[Event]:
    """Every readable event; a torn last line (a run killed mid-write) is skipped."""
    try:
        with open(run_dir / EVENTS, encoding="utf-8", errors="replace") as handle:
            return list(parse_lines(handle))
    except FileNotFoundError:
        return []
