"""Run directories made from the recorded run, for comparisons: each variant's losses scaled, its
learning rate and name changed, with a recipe.yaml and summary.json as `cnn-tui run` writes them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from cnn_tui.contract.events import EpochEnd, RunFinished, Step
from tests.ui.conftest import DATA, recorded

STAMPS = ["20261124-055950-3aba", "20261124-061502-77c1", "20261124-063010-0f3e"]


def _scaled(event, factor: float):
    if isinstance(event, Step | EpochEnd):
        metrics = {k: (v * factor if k.endswith("loss") else v) for k, v in event.metrics.items()}
        return dataclasses.replace(event, metrics=metrics)
    return event


def make_runs(parent: Path, lrs: list[float], name: str = "overfit_demo") -> list[Path]:
    recipe = yaml.safe_load((DATA / "overfit.yaml").read_text())
    events = recorded()
    finished = next(e for e in events if isinstance(e, RunFinished))
    dirs = []
    for i, lr in enumerate(lrs):
        run_dir = parent / f"{name}-{STAMPS[i]}"
        run_dir.mkdir(parents=True)
        factor = 1.0 + 0.4 * i
        lines = [_scaled(e, factor).to_json() for e in events]
        (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n")
        mine = dict(recipe, train=dict(recipe["train"], optimizer=dict(recipe["train"]["optimizer"], lr=lr)))
        (run_dir / "recipe.yaml").write_text(yaml.safe_dump(mine))
        best = {k: (v * factor if k.endswith("loss") else v) for k, v in finished.best.items()}
        (run_dir / "summary.json").write_text(json.dumps({
            "status": "completed", "kind": "scratch", "best": best, "final": finished.final, "best_epoch": 5,
            "steps": finished.step, "wall_seconds": 12.5 + i}))
        dirs.append(run_dir)
    return dirs
