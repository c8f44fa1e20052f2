"""The recipes the benchmarks run, written into a scratch folder: the built-in scratch
recipe (full or cut down for --quick) with early stopping off, so that every run trains
exactly the same number of steps as the hand-written baseline."""

from __future__ import annotations

from pathlib import Path

import yaml

from cnn_tui.recipes import builtin


def _set(raw: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        raw = raw.setdefault(key, {})
    raw[keys[-1]] = value


def write_recipe(folder: Path, name: str, base: str = "scratch_cnn", **fields) -> Path:
    """A copy of built-in `base` named `name`, with dotted fields replaced."""
    raw = yaml.safe_load(builtin.find(base).read_text(encoding="utf-8"))
    raw["name"] = name
    for dotted, value in fields.items():
        _set(raw, dotted.replace("__", "."), value)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def scratch_fields(quick: bool) -> dict:
    """Short runs (4 epochs of the full data) so that many can alternate: this machine's
    speed drifts by several percent over minutes, and only frequent alternation cancels it. The
    first epoch is the warm-up; a run's figure is the median of the other three (3 until
    2026-12-07: the mean of two epochs let one slow epoch decide a pair's ratio)."""
    fields = {"train__early_stopping__enabled": False, "train__epochs": 4}
    if quick:
        fields.update({"train__epochs": 2, "data__shapes__num_train": 1200, "data__shapes__num_val": 300})
    return fields
