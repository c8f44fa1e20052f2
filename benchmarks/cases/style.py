"""Case 8: style transfer.

- Seconds per L-BFGS step of `cnn-tui run` (events, PNG snapshots and checkpoints
  included) against the PyTorch tutorial's approach (benchmarks/style_reference.py) with
  the same net, layers, size, loss terms and L-BFGS settings, fresh processes, ABBA order.
- Seconds until the style loss has fallen 10x at 256 px, per offline feature net, on the
  shipped recipes.
- Coarse to fine at 512 px: seconds until a two-level run reaches the style loss that a
  single-size run ends with, against that single-size run's time.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks.common import Result, last_json_line, median, only_run_dir, read_events, run_python

WARMUP = 10  # steps before the clock starts: first-call allocations, the line search settling
NETS = {"efficientnet_lite0": "style_transfer_mosaic", "random": "style_transfer_random_net"}


def _run(out: Path, recipe: str, *sets: str) -> list[dict]:
    args = [arg for value in sets for arg in ("--set", value)]
    run_python("-m", "cnn_tui", "run", recipe, "--quiet", "--device", "cpu", "--out", str(out), *args)
    return read_events(only_run_dir(out))


def _steps(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "style_step"]


def seconds_per_step(events: list[dict]) -> float:
    steps = [e for e in _steps(events) if e["step"] >= WARMUP]
    return (steps[-1]["t"] - steps[0]["t"]) / (steps[-1]["step"] - steps[0]["step"])


def seconds_to_fall(events: list[dict], factor: float) -> float | None:
    steps = _steps(events)
    first = steps[0]["metrics"]["loss/style"]
    for event in steps:
        if event["metrics"]["loss/style"] <= first / factor:
            return event["t"] - steps[0]["t"]
    return None


def seconds_to_reach(events: list[dict], style_loss: float, from_step: int) -> float | None:
    """When the style loss is first at most `style_loss` at or after `from_step` (the
    full-size level: coarse losses are measured on another image size)."""
    steps = _steps(events)
    for event in steps:
        if event["step"] >= from_step and event["metrics"]["loss/style"] <= style_loss:
            return event["t"] - steps[0]["t"]
    return None


def _step_ratio(tmp: Path, steps: int, reps: int) -> Result:
    """ABBA pairs of fresh processes; the recipe as shipped (logging, snapshots, checkpoints)."""
    ours, reference, our_evals, their_evals = [], [], [], []
    for rep in range(reps):
        for side in ("ours", "ref") if rep % 2 == 0 else ("ref", "ours"):
            if side == "ours":
                out = tmp / f"ratio{rep}"
                events = _run(out, "style_transfer_mosaic", f"steps={steps}")
                ours.append(seconds_per_step(events))
                summary = json.loads((only_run_dir(out) / "summary.json").read_text())
                our_evals.append(summary["loss_evaluations"] / summary["steps"])
            else:
                out = run_python("-m", "benchmarks.style_reference", "style_transfer_mosaic", str(steps), str(WARMUP))
                answer = last_json_line(out.stdout)
                reference.append(answer["seconds_per_step"])
                their_evals.append(answer["evaluations_per_step"])
    o, r = median(ours), median(reference)
    return Result("8 style transfer", f"s per L-BFGS step, Lite0 256 px, median of {reps} pairs: tutorial approach / "
                                      f"cnn-tui run (loss evaluations a step: {median(their_evals):.1f} / "
                                      f"{median(our_evals):.1f})",
                  f"{r:.3f} / {o:.3f} s -> {r / o:.2f}", ">= 1.0", r / o >= 1.0)


def _time_to_fall(tmp: Path, quick: bool) -> list[Result]:
    rows = []
    for net, recipe in NETS.items():
        events = _run(tmp / f"fall-{net}", recipe, *(["steps=80"] if quick else []))
        seconds = seconds_to_fall(events, 10.0)
        value = f"{seconds:.1f} s" if seconds is not None else f"not in {_steps(events)[-1]['step']} steps"
        rows.append(Result("8 style transfer", f"style loss falls 10x, {net} 256 px (2 cores)", value,
                           "<= 60 s", seconds is not None and seconds <= 60))
    return rows


def _multiscale(tmp: Path, quick: bool) -> Result:
    size, fine = (256, 40) if quick else (512, 100)
    single = _run(tmp / "single", "style_transfer_mosaic", f"image_size={size}", f"steps={fine}")
    target = _steps(single)[-1]["metrics"]["loss/style"]
    single_s = _steps(single)[-1]["t"] - _steps(single)[0]["t"]
    coarse = fine
    multi = _run(tmp / "multi", "style_transfer_mosaic", f"image_size={size}", f"steps={fine}",
                 "multiscale.levels=2", f"multiscale.coarse_steps={coarse}")
    reached = seconds_to_reach(multi, target, from_step=coarse)
    value = (f"{single_s:.1f} / {reached:.1f} s -> {single_s / reached:.2f}x" if reached is not None
             else f"{single_s:.1f} s / not reached")
    return Result("8 style transfer", f"to the single-size run's final style loss at {size} px: "
                                      f"1 level / 2 levels", value, ">= 1.0x",
                  reached is not None and single_s / reached >= 1.0)


def run(quick: bool, reps: int) -> list[Result]:
    steps = 30 if quick else 100
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as name:
        tmp = Path(name)
        rows = [_step_ratio(tmp, steps, 1 if quick else max(reps, 3))]
        rows += _time_to_fall(tmp, quick)
        rows.append(_multiscale(tmp, quick))
    return rows
