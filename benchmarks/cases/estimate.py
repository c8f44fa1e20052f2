"""Case 15: the cost estimate (`cnn-tui validate R --estimate`, issue 30) against a real epoch.

For each recipe, side by side in one rep (the machine's speed drifts over minutes): the estimate
(benchmarks/estimate_probe.py, a fresh process), then `cnn-tui run R` for two epochs (early
stopping off). The measured epoch is the second one, from the first epoch's end event to the
second's: a whole steady epoch (its steps, the gradient ticks, validation, the views drawn after
the first epoch's validation, its checkpoints), without the first epoch's warm-up, which the
estimate leaves out too. Target: estimate / measured within 0.75..1.25 (the issue's 25%), the
median over the reps.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.common import Result, last_json_line, median, only_run_dir, read_events, run_python

RECIPES = ("scratch_cnn", "resnet_shapes")
LOW, HIGH = 0.75, 1.25
EPOCHS = ("train.epochs=2", "train.early_stopping.enabled=false")
QUICK = ("data.shapes.num_train=1200", "data.shapes.num_val=300")


def measured_epoch(run_dir: Path) -> float:
    """Seconds between the first two epochs' end events: one whole epoch after the warm-up."""
    ends = [e["t"] for e in read_events(run_dir) if e["type"] == "epoch"]
    return ends[1] - ends[0]


def one_pair(recipe: str, work: Path, overrides: tuple[str, ...]) -> tuple[float, float]:
    sets = [arg for o in overrides for arg in ("--set", o)]
    found = last_json_line(run_python("-m", "benchmarks.estimate_probe", recipe, *sets).stdout)
    out = work / f"runs-{recipe}"
    run_python("-m", "cnn_tui", "run", recipe, "--quiet", "--device", "cpu", "--out", str(out), *sets,
               *[arg for o in EPOCHS for arg in ("--set", o)])
    run_dir = only_run_dir(out)
    try:
        return found["epoch_s"], measured_epoch(run_dir)
    finally:
        import shutil

        shutil.rmtree(out, ignore_errors=True)


def run(quick: bool, reps: int) -> list[Result]:
    overrides = QUICK if quick else ()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        for recipe in RECIPES:
            pairs = [one_pair(recipe, Path(tmp), overrides) for _ in range(reps)]
            ratio = median([e / m for e, m in pairs])
            load = os.getloadavg()[0]
            shown = ", ".join(f"{e:.1f}/{m:.1f} s" for e, m in pairs)
            rows.append(Result("15 estimate", f"{recipe}: estimated / measured epoch ({shown}; load {load:.1f})",
                               f"{ratio:.2f}", f"{LOW}..{HIGH}", quick or LOW <= ratio <= HIGH))
    return rows
