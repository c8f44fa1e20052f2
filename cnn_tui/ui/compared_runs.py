"""Several runs side by side: short names that tell them apart, their best and final numbers, and
the recipe fields they differ in (read from each run directory's recipe.yaml and summary.json)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnn_tui.contract.kinds import optimises_an_image
from cnn_tui.contract.wording import format_duration
from cnn_tui.recipes.diff import fields_that_differ
from cnn_tui.recipes.yaml_io import load_yaml_text
from cnn_tui.record.rundir import RECIPE, read_summary
from cnn_tui.ui.state import RunState

# the first run (the screen's own) is drawn cyan/magenta by its own curves; the pinned ones take the rest
RUN_COLORS = ["cyan", "yellow", "green", "blue", "red", "bright_white", "orange1", "bright_magenta"]
MAX_RUNS = len(RUN_COLORS)


@dataclass
class Compared:
    """One run of a comparison: its folded events and where it lives."""

    run_dir: Path
    state: RunState = field(default_factory=RunState)
    label: str = ""  # the short name the legend and the table use
    color: str = "cyan"
    curves: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # its lines, for its state's version

    def cached(self, key: tuple[Any, ...], make: Any) -> Any:
        """`make()`, once per state version and key: a finished pinned run is reduced to lines once."""
        full = (self.state.version, self.label, *key)
        if full not in self.curves:
            if len(self.curves) > 16:
                self.curves.clear()
            self.curves[full] = make()
        return self.curves[full]

    @property
    def overlaid(self) -> bool:
        """Classification runs share loss/accuracy/lr curves; a style transfer has none of them."""
        return self.state.started is None or not optimises_an_image(self.state.started.kind)


RUN_DIR_NAME = re.compile(r"^(?P<recipe>.+)-(?P<date>\d{8})-(?P<time>\d{6})-(?P<hex>[0-9a-f]+)$")


def short_names(names: list[str]) -> list[str]:
    """What tells run directory names (recipe-date-time-hex) apart: the recipe where the recipes
    differ, the time where they do not (both where need be); else the common prefix cut away."""
    if len(names) < 2:
        return names
    parts = [RUN_DIR_NAME.match(n) for n in names]
    if all(parts):
        recipes = [p["recipe"] for p in parts if p]
        times = [p["time"] for p in parts if p]
        if len(set(times)) < len(times):  # started in the same second: the random suffix tells them apart
            times = [f"{p['time']}-{p['hex']}" for p in parts if p]
        if len(set(recipes)) == 1:
            return times
        if len(set(recipes)) == len(recipes):
            return recipes
        return [f"{r} {t}" for r, t in zip(recipes, times)]
    cut = len(os.path.commonprefix(names))
    return [n[cut:] or n for n in names]


def label_runs(runs: list[Compared]) -> None:
    for run, name, color in zip(runs, short_names([r.run_dir.name for r in runs]), RUN_COLORS):
        run.label, run.color = name[:32], color


def read_recipe(run_dir: Path) -> dict[str, Any]:
    try:
        loaded = load_yaml_text((run_dir / RECIPE).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _percent(value: Any) -> str:
    return f"{value:.2%}" if isinstance(value, int | float) else "-"


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "-"


def table_rows(runs: list[Compared]) -> tuple[list[str], list[list[str]]]:
    """(headers, one row per run): status, best and final validation numbers, test score, wall time."""
    headers = ["run", "kind", "status", "best val acc", "best val loss", "final val acc", "test acc", "steps", "wall"]
    rows = []
    for run in runs:
        summary = read_summary(run.run_dir) or {}
        state = run.state
        best, final = summary.get("best") or {}, summary.get("final") or {}
        if not final and state.epochs:  # a live run: its latest epoch so far
            final = state.epochs[-1].metrics
        if not best and state.epochs:
            best = max((e.metrics for e in state.epochs), key=lambda m: m.get("val/acc", 0.0))
        epoch = summary.get("best_epoch")
        wall = summary.get("wall_seconds")
        rows.append([
            run.label, state.started.kind if state.started else summary.get("kind", "?"),
            summary.get("status", state.status), _percent(best.get("val/acc")) + (f" @{epoch}" if epoch else ""),
            _number(best.get("val/loss")), _percent(final.get("val/acc")),
            _percent((summary.get("test") or {}).get("test/acc")), f"{summary.get('steps', state.step):,}",
            format_duration(wall) if isinstance(wall, int | float) else "live",
        ])
    return headers, rows


def differences(runs: list[Compared]) -> list[tuple[str, list[Any]]]:
    """The recipe fields the overlaid runs differ in (a style transfer's recipe shares next to nothing
    with a classifier's), the run names themselves left out."""
    found = fields_that_differ([read_recipe(r.run_dir) for r in runs if r.overlaid])
    return [(path, values) for path, values in found if path not in ("name", "description")]
