"""Run directories: unique names, the resolved recipe, events.jsonl, summary.json.

    runs/<recipe>-<YYYYmmdd-HHMMSS>-<hex>/
        recipe.yaml      the fully resolved recipe (what actually ran)
        events.jsonl     every event, appended and flushed as it happens
        summary.json     status, best and final metrics, wall time, device (at the end)
        checkpoints/     last.pt (every epoch, and on interrupt), best.pt
        images/          style-transfer snapshots
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from cnn_tui.atomic import atomic_write_text
from cnn_tui.events import Event, parse_lines
from cnn_tui.recipes.yaml_io import dump_yaml
from cnn_tui.sinks import JsonLinesSink

EVENTS = "events.jsonl"
SUMMARY = "summary.json"
RECIPE = "recipe.yaml"


def create_run_dir(parent: Path, name: str) -> Path:
    """A new, never-shared folder: mkdir is atomic, so two runs started together differ."""
    parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for _ in range(100):
        path = parent / f"{name}-{stamp}-{secrets.token_hex(2)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        (path / "checkpoints").mkdir()
        return path
    raise RuntimeError(f"could not create a unique run directory in {parent}")


def write_recipe(run_dir: Path, recipe_dict: dict[str, Any]) -> None:
    dump_yaml(recipe_dict, run_dir / RECIPE)


def rewrite_recipe(run_dir: Path, recipe_dict: dict[str, Any]) -> None:
    """Replace a run's recipe.yaml whole or not at all (`run --resume --allow-changes`)."""
    tmp = run_dir / f".{RECIPE}.{os.getpid()}.tmp"
    try:
        dump_yaml(recipe_dict, tmp)
        os.replace(tmp, run_dir / RECIPE)
    finally:
        tmp.unlink(missing_ok=True)


class RunDirSink(JsonLinesSink):
    """Appends every event to events.jsonl."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(open(run_dir / EVENTS, "a", encoding="utf-8"), close_stream=True)


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
