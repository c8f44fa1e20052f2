"""Case 4: keypress-to-screen latency in the real dashboard while a recipe trains at
full CPU load. The dashboard runs in a pseudo-terminal at 80x24 (one pane at a time);
each tab key switches pane, and the latency is from writing the key to the moment the
next pane's title arrives in the terminal output. Side by side: the dashboard as shipped (plotext
while the frame's budget lasts) and with every chart on the braille canvas (CNN_TUI_CHARTS=braille),
in alternating sessions."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result, median, percentile, python_env
from benchmarks.pty_app import PtyApp
from benchmarks.workload import write_recipe

PANES = ["Loss", "Accuracy", "Learning rate", "Gradient norm per layer", "Latest gradients", "Diagnosis", "Log",
         "System", "Feature maps", "First-layer filters", "Confusion matrix", "Worst mistakes", "Weight distribution",
         "Activation and weight health", "Model"]  # tab walks the curves page, then the inside page


def _latencies(presses: int, charts: str, env: dict | None = None) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        write_recipe(work / "recipes", "bench_long", **{"train__epochs": 1000, "train__early_stopping__enabled": False})
        app = PtyApp([sys.executable, "-m", "cnn_tui", "--stop-on-exit", "--recipes", str(work / "recipes")],
                     80, 24, work, python_env() | {"CNN_TUI_CHARTS": charts} | (env or {}))
        try:
            mark = app.start_recipe("bench_long")
            app.wait_for("RUNNING", since=mark, timeout=120)
            app.wait_for("img/s", since=mark, timeout=120)  # steps are being trained
            time.sleep(2.0)
            rng = random.Random(0)
            out = []
            for i in range(presses):
                target = PANES[(i + 1) % len(PANES)]
                mark = app.mark()
                sent = app.write(b"\t")
                out.append(app.wait_for(target, since=mark, timeout=10) - sent)
                time.sleep(rng.uniform(0.15, 0.35))  # a person's pace, never in step with the 5 Hz redraw
            return out
        finally:
            app.stop()
            _wait_for_the_run_to_end(work / "runs")


def _wait_for_the_run_to_end(runs: Path, timeout: float = 60.0) -> None:
    """A run outlives its dashboard: --stop-on-exit had the dashboard stop it as it went (SIGTERM);
    any still live is stopped here. Then wait for its summary so the scratch folder can be removed."""
    from cnn_tui.contract.errors import UsageError
    from cnn_tui.record.control import request

    for run_dir in runs.iterdir() if runs.is_dir() else []:
        try:
            request(run_dir, "stop")
        except UsageError:
            pass  # it has ended already
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not runs.exists() or all((d / "summary.json").exists() for d in runs.iterdir()):
            return
        time.sleep(0.2)


def run(quick: bool, reps: int) -> list[Result]:
    presses = 12 if quick else 40
    latencies: dict[str, list[float]] = {"auto": [], "braille": []}
    for rep in range(max(1, reps)):  # ABBA over the reps: the machine's speed drifts
        for charts in ("auto", "braille") if rep % 2 == 0 else ("braille", "auto"):
            latencies[charts] += _latencies(presses // max(1, reps), charts)
    p50, p95 = (median(latencies["auto"]) * 1000, percentile(latencies["auto"], 95) * 1000)
    b50, b95 = (median(latencies["braille"]) * 1000, percentile(latencies["braille"], 95) * 1000)
    n = len(latencies["auto"])
    return [
        Result("4 responsiveness", f"tab to screen under full training load, median of {n}",
               f"{p50:.0f} ms", "<= 33 ms", p50 <= 33),
        Result("4 responsiveness", "tab to screen under full training load, p95", f"{p95:.0f} ms", "<= 100 ms",
               p95 <= 100),
        Result("4 responsiveness", f"the same with every chart braille (CNN_TUI_CHARTS=braille), median / p95 of {n}",
               f"{b50:.0f} / {b95:.0f} ms", "side by side", True),
    ]
