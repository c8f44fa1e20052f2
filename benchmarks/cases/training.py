"""Cases 1, 2 and 7: what cnn-tui costs a training run, against a hand-written loop.

Every rep runs, in fresh processes and interleaved: the baseline loop, `cnn-tui run`
(gradient statistics at the default interval), `cnn-tui run` with them off, and the
dashboard driving the run in a pseudo-terminal. Throughput is measured per epoch (the
training part: batches, augmentation, forward, backward, step, events; validation is not
training), from the runs' epoch events and the baseline's own clock, each run's first
epoch (warm-up) left out. This shared machine's speed drifts by several percent over
minutes, so each ratio is taken within a rep, between runs made side by side, and the
table shows the median of those paired ratios (and, for scale, the pooled medians).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, last_json_line, median, only_run_dir, python_env, read_events, run_python
from benchmarks.pty_app import PtyApp
from benchmarks.workload import scratch_fields, write_recipe
from cnn_tui.recipes import builtin

TARGET_ACC = 0.95  # the built-in scratch recipe's validation accuracy target


def _cnn_tui_run(recipe: Path, out: Path, *overrides: str) -> Path:
    sets = [arg for o in overrides for arg in ("--set", o)]
    run_python("-m", "cnn_tui", "run", str(recipe), "--quiet", "--out", str(out), *sets)
    return only_run_dir(out)


def _dashboard_run(recipes: Path, name: str, work: Path, charts: str = "auto", env: dict | None = None) -> Path:
    """The real dashboard at 160x48 (every pane drawn), started from its picker; charts: CNN_TUI_CHARTS;
    env: more environment (CNN_TUI_PRIORITY for benchmarks/priority_probe.py)."""
    import sys

    app = PtyApp([sys.executable, "-m", "cnn_tui", "--stop-on-exit", "--recipes", str(recipes)], 160, 48, work,
                 python_env() | {"CNN_TUI_CHARTS": charts} | (env or {}))
    try:
        app.start_recipe(name)
        app.wait_for("COMPLETED", timeout=900)
    finally:
        app.stop()
    return only_run_dir(work / "runs")


def _epoch_seconds(run_dir: Path) -> list[float]:
    """The training part of each epoch after the first (warm-up), from the epoch events."""
    return [e["seconds"] for e in read_events(run_dir) if e["type"] == "epoch"][1:]


def _epoch_rates(run_dir: Path, label: str) -> list[float]:
    started = next(e for e in read_events(run_dir) if e["type"] == "run_started")
    images = started["steps_per_epoch"] * started["batch_size"]
    SPIN_LIMITED.setdefault(label, []).append("spin-wait" in started.get("device_name", ""))
    return [images / s for s in _epoch_seconds(run_dir)]


# whether each run measured by _epoch_rates had OpenMP's spin-wait limited (cnn_tui/commands/openmp.py:
# other processes busy as it started), which the hand-written loop never has: said in case 1's rows
SPIN_LIMITED: dict[str, list[bool]] = {}


def _time_to_accuracy(run_dir: Path) -> float | None:
    events = read_events(run_dir)
    start = next(e for e in events if e["type"] == "run_started")["t"]
    for e in events:
        if e["type"] == "epoch" and e["metrics"].get("val/acc", 0) >= TARGET_ACC:
            return e["t"] - start
    return None


def run(quick: bool, reps: int) -> list[Result]:
    reps = reps if quick else max(reps, 8)  # the closest targets here: more, shorter runs
    SPIN_LIMITED.clear()
    runs: dict[str, list[list[float]]] = {"base": [], "plain": [], "grads_on": [], "grads_off": [], "dash": [],
                                         "dash_braille": []}
    reached: list[float | None] = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        recipes = work / "recipes"
        recipe = write_recipe(recipes, "bench_scratch", **scratch_fields(quick))

        def baseline(out: Path) -> None:
            measured = last_json_line(run_python("-m", "benchmarks.baseline_loop", str(recipe)).stdout)
            runs["base"].append([measured["epoch_images"] / s for s in measured["epoch_seconds"][1:]])

        def headless(out: Path) -> None:
            run_dir = _cnn_tui_run(recipe, out / "plain")
            runs["plain"].append(_epoch_rates(run_dir, "run"))
            runs["grads_on"].append(_epoch_seconds(run_dir))

        def no_gradient_stats(out: Path) -> None:
            runs["grads_off"].append(_epoch_seconds(_cnn_tui_run(recipe, out / "nograd", "log.grad_every_steps=0")))

        def dashboard(out: Path) -> None:
            (out / "dash").mkdir(parents=True)
            runs["dash"].append(_epoch_rates(_dashboard_run(recipes, "bench_scratch", out / "dash"), "dashboard"))

        def dashboard_braille(out: Path) -> None:  # the charts as before plotext, side by side
            (out / "dash_braille").mkdir(parents=True)
            runs["dash_braille"].append(_epoch_rates(_dashboard_run(recipes, "bench_scratch", out / "dash_braille",
                                                                    "braille"), "braille"))

        variants = [baseline, headless, no_gradient_stats, dashboard, dashboard_braille]
        for rep in range(reps):  # ABBA order: no variant always runs first or last
            for variant in (variants if rep % 2 == 0 else variants[::-1]):
                variant(work / f"rep{rep}")
        # case 7: the built-in recipe as shipped (cut down in --quick)
        shipped = recipe if quick else builtin.find("scratch_cnn")
        reached.append(_time_to_accuracy(_cnn_tui_run(shipped, work / "shipped")))

    def paired(a: str, b: str) -> float:
        """Median over reps of the ratio of the two runs made side by side in that rep."""
        return median([median(x) / median(y) for x, y in zip(runs[a], runs[b])])

    level = {name: median([v for run in values for v in run]) for name, values in runs.items()}
    spin = "; OpenMP spin-wait limited in " + ", ".join(f"{sum(v)} of {len(v)} {k}" for k, v in SPIN_LIMITED.items())
    p_ratio, d_ratio, g_ratio = paired("plain", "base"), paired("dash", "base"), paired("grads_on", "grads_off")
    pairs = f"median of {reps} side-by-side pairs"
    rows = [
        Result("1 training overhead", f"images/s, {pairs}: cnn-tui run / hand-written loop{spin}",
               f"{level['plain']:,.0f} / {level['base']:,.0f} -> {p_ratio:.3f}", ">= 0.97", p_ratio >= 0.97),
        Result("1 training overhead", f"images/s, {pairs}: run under the dashboard / hand-written loop",
               f"{level['dash']:,.0f} / {level['base']:,.0f} -> {d_ratio:.3f}", ">= 0.97", d_ratio >= 0.97),
        Result("1 training overhead", f"images/s, {pairs}: under the dashboard / under it with every chart "
               "braille (CNN_TUI_CHARTS=braille)", f"{level['dash']:,.0f} / {level['dash_braille']:,.0f} -> "
               f"{paired('dash', 'dash_braille'):.3f}", "side by side", True),
        Result("2 gradient statistics", f"epoch time, {pairs}: statistics every 25 steps / off",
               f"{level['grads_on']:.3f} s / {level['grads_off']:.3f} s -> {g_ratio:.3f}", "<= 1.03", g_ratio <= 1.03),
    ]
    times = [t for t in reached if t is not None]
    if quick:
        value = f"{median(times):.1f} s" if times else "not reached in the cut-down run"
        rows.append(Result("7 time to accuracy", f"scratch recipe to {TARGET_ACC:.0%} val acc (cut down)",
                           value, "recorded", True))
    else:
        value = f"{times[0]:.1f} s" if times else "not reached"
        rows.append(Result("7 time to accuracy", f"scratch_cnn as shipped to {TARGET_ACC:.0%} val acc",
                           value, "<= 60 s", bool(times) and times[0] <= 60))
    return rows
