"""Case 11: what the views of the model's inside cost a training run (issues 14 and 29).

Interleaved runs of `cnn-tui run` on the scratch workload: every view on (the default: feature
maps, filters, confusion matrix, mistakes, activation health, and Grad-CAM, feature space, top
patches and what a filter wants to see under their budget, views.budget), every view off, and,
for comparison without a target, every view drawn every epoch (views.budget=1: how the views ran
before the budget). Two ratios per run against its neighbouring off run, each the median over
the run's epochs: training throughput (the epoch's training part, where activation health is
measured; every epoch after the first) and whole-epoch throughput (training, validation, the
pictures written and the checkpoints: from the previous epoch's last event, its last checkpoint,
to this epoch's; the epochs between the first and the last). The first and last epochs draw the
budgeted views whatever the budget (the run's first and final pictures), so they are left out of
the whole-epoch median (a long run's steady state) and the last one's cost is reported beside it.
Until 2026-12-07 an epoch's span ran from epoch event to epoch event, which put each epoch's
pictures into the next epoch's span: the first epoch's draw (~0.3 s, the views' first calls)
landed in a measured span, and a median of three with one span inflated is the larger of the other
two, ~0.5 sigma of the scatter above the off run's median (0.945-0.962 in the full runs).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, median, only_run_dir, read_events, run_python
from benchmarks.workload import scratch_fields, write_recipe

VIEWS_OFF = ("views.feature_maps=[]", "views.filters=false", "views.confusion=false", "views.mistakes=0",
             "views.health=false", "views.gradcam=false", "views.embedding=false", "views.top_patches=false",
             "views.wants=false")
EVERY_EPOCH = ("views.budget=1",)
END_EVENTS = ("epoch", "checkpoint")


def _run(recipe: Path, out: Path, *overrides: str) -> tuple[list[float], list[float], list[float]]:
    """(training-part seconds of each epoch after the first, whole-epoch seconds of each epoch between
    the first and the last, [the last epoch's whole seconds])."""
    sets = [arg for o in overrides for arg in ("--set", o)]
    run_python("-m", "cnn_tui", "run", str(recipe), "--quiet", "--out", str(out), *sets)
    events = read_events(only_run_dir(out))
    epochs = [e for e in events if e["type"] == "epoch"]
    ends = [max(e["t"] for e in events if e["type"] in END_EVENTS and e.get("epoch") == epoch["epoch"])
            for epoch in epochs]  # an epoch's last event: its last checkpoint (after its pictures)
    whole = [b - a for a, b in zip(ends, ends[1:])]  # epochs 2.. : each with its own pictures
    return [e["seconds"] for e in epochs[1:]], whole[:-1], whole[-1:]


def run(quick: bool, reps: int) -> list[Result]:
    reps = reps if quick else max(reps, 8)  # 6 pairs scattered 0.94-1.04 between runs of the same code
    runs: dict[str, list[tuple[list[float], list[float], list[float]]]] = {"on": [], "off": [], "every": []}
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        fields = scratch_fields(quick)
        # epochs between the first and the last, measured whole: one when quick (3 epochs), three in
        # the full case (5 epochs)
        fields["train__epochs"] = fields["train__epochs"] + 1
        recipe = write_recipe(work / "recipes", "bench_views", **fields)
        variants = [("on", ()), ("off", VIEWS_OFF)]
        if not quick or reps > 1:  # the smoke run (--quick, one rep) keeps to the two with a target
            variants.append(("every", EVERY_EPOCH))
        for rep in range(reps):  # ABCCBA order
            for name, overrides in (variants if rep % 2 == 0 else variants[::-1]):
                runs[name].append(_run(recipe, work / f"rep{rep}-{name}", *overrides))

    def paired(runs_on: list, part: int) -> float:  # throughput on / off = seconds off / seconds on
        return median([median(b[part]) / median(a[part]) for a, b in zip(runs_on, runs["off"])])

    def level(name: str, part: int) -> float:
        return median([v for run in runs[name] for v in run[part]])

    pairs = f"median of {reps} side-by-side pairs"
    results = []
    for part, what in ((0, "training throughput (epochs after the first)"),
                       (1, "whole-epoch throughput (validation, pictures, checkpoints; epochs between the first "
                           "and the last)")):
        ratio = paired(runs["on"], part)
        results.append(Result("11 views cost", f"{what}, {pairs}: every view on (budgeted) / off",
                              f"{level('on', part):.3f} s / {level('off', part):.3f} s per epoch -> {ratio:.3f}",
                              ">= 0.97", ratio >= 0.97))
        if not runs["every"]:
            continue
        every = paired(runs["every"], part)
        results.append(Result("11 views cost", f"{what}: every view drawn every epoch (views.budget=1, as before "
                              "the budget) / off, for comparison",
                              f"{level('every', part):.3f} s / {level('off', part):.3f} s per epoch -> {every:.3f}",
                              "reported (no target)", True))
    last = paired(runs["on"], 2)
    results.append(Result("11 views cost", f"the last epoch, whole (its final pictures drawn whatever the budget), "
                          f"{pairs}: every view on / off", f"{level('on', 2):.3f} s / {level('off', 2):.3f} s -> "
                          f"{last:.3f}", "reported (no target)", True))
    return results
