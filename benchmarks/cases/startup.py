"""Case 5: `cnn-tui --help` and `cnn-tui list` (no torch on those paths), and the time
from launching the dashboard in a terminal to its first frame (the picker's title)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result, median, python_env
from benchmarks.pty_app import PtyApp


def _command() -> list[str]:
    script = Path(sys.executable).with_name("cnn-tui")  # the installed console script, as users run it
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnn_tui"]


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, env=python_env())
    return time.perf_counter() - start


def _first_frame(work: Path) -> float:
    app = PtyApp(_command(), 120, 40, work, python_env())
    try:
        return app.wait_for("pick a recipe", timeout=30) - app.started
    finally:
        app.stop()


def run(quick: bool, reps: int) -> list[Result]:
    n = 3 if quick else 7
    bare, helps, lists, frames = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        for _ in range(n):
            bare.append(_wall([sys.executable, "-c", "pass"]))
            helps.append(_wall(_command() + ["--help"]))
            lists.append(_wall(_command() + ["list"]))
        for _ in range(max(n, reps)):  # as many as the other two: one slow launch moved a median of 3
            frames.append(_first_frame(Path(tmp)))
    python = median(bare)
    h, li, f = median(helps), median(lists), median(frames)
    return [
        Result("5 start-up", f"cnn-tui --help (bare python: {python * 1000:.0f} ms)", f"{h * 1000:.0f} ms",
               "<= 300 ms", h <= 0.3),
        Result("5 start-up", "cnn-tui list", f"{li * 1000:.0f} ms", "<= 300 ms", li <= 0.3),
        Result("5 start-up", "dashboard: launch to first frame in a terminal", f"{f * 1000:.0f} ms",
               "<= 500 ms", f <= 0.5),
    ]
