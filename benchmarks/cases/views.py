"""Case 11: what the views of the model's inside cost a training run (issue 14).

Interleaved pairs of `cnn-tui run` on the scratch workload: every view on (the default: feature
maps, filters, confusion matrix, mistakes, activation health, Grad-CAM, feature space, top
patches) and every view off. Two ratios per pair, each the median over the pair's epochs after
the first: training throughput (the epoch's training part, where activation health is measured)
and whole-epoch throughput (epoch event to epoch event: validation, the pictures written and the
checkpoints included).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, median, only_run_dir, read_events, run_python
from benchmarks.workload import scratch_fields, write_recipe

VIEWS_OFF = ("views.feature_maps=[]", "views.filters=false", "views.confusion=false", "views.mistakes=0",
             "views.health=false", "views.gradcam=false", "views.embedding=false", "views.top_patches=false")


def _run(recipe: Path, out: Path, *overrides: str) -> tuple[list[float], list[float]]:
    """(training-part seconds, whole-epoch seconds) of each epoch after the first."""
    sets = [arg for o in overrides for arg in ("--set", o)]
    run_python("-m", "cnn_tui", "run", str(recipe), "--quiet", "--out", str(out), *sets)
    events = read_events(only_run_dir(out))
    epochs = [e for e in events if e["type"] == "epoch"]
    whole = [b["t"] - a["t"] for a, b in zip(epochs, epochs[1:])]
    return [e["seconds"] for e in epochs[1:]], whole


def run(quick: bool, reps: int) -> list[Result]:
    reps = reps if quick else max(reps, 6)
    on: list[tuple[list[float], list[float]]] = []
    off: list[tuple[list[float], list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        fields = scratch_fields(quick)
        fields["train__epochs"] = fields["train__epochs"] + 1  # two measured epochs even when quick
        recipe = write_recipe(work / "recipes", "bench_views", **fields)
        for rep in range(reps):  # ABBA order
            variants = [("on", ()), ("off", VIEWS_OFF)]
            for name, overrides in (variants if rep % 2 == 0 else variants[::-1]):
                (on if name == "on" else off).append(_run(recipe, work / f"rep{rep}-{name}", *overrides))

    def paired(part: int) -> float:  # throughput on / off = seconds off / seconds on
        return median([median(b[part]) / median(a[part]) for a, b in zip(on, off)])

    train_ratio, whole_ratio = paired(0), paired(1)
    pairs = f"median of {reps} side-by-side pairs"
    level = [median([v for run in runs for v in run[part]]) for runs in (on, off) for part in (0, 1)]
    return [
        Result("11 views cost", f"training throughput, {pairs}: every view on / off",
               f"{level[0]:.3f} s / {level[2]:.3f} s per epoch -> {train_ratio:.3f}", ">= 0.97", train_ratio >= 0.97),
        Result("11 views cost", f"whole-epoch throughput (validation, pictures, checkpoints), {pairs}: on / off",
               f"{level[1]:.3f} s / {level[3]:.3f} s per epoch -> {whole_ratio:.3f}", ">= 0.97",
               whole_ratio >= 0.97),
    ]
