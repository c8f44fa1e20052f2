"""Case 10: reading a long run back. `cnn-tui show` of a million-step run (a step event every
step: ~220 MB of events.jsonl) and its export to CSV and to TensorBoard, as users run them
(the console script, a new process each, output to a pipe). Absolute targets, from the issue:
show under 2 s, each export under 30 s on 2 cores.

Also the dashboard attaching to it: `cnn-tui open RUN` in a terminal, from launch to the status line
showing the run's last step (its whole history folded), beside the same for a 100-step run (the
dashboard's own start); the difference is what the history costs."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.cases.startup import _command
from benchmarks.common import Result, median, python_env
from benchmarks.long_run import write_long_run
from benchmarks.pty_app import PtyApp


def _seconds(argv: list[str]) -> float:
    import subprocess

    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, env=python_env())
    return time.perf_counter() - start


def _attach(run_dir: Path, steps: int) -> float:
    """Seconds from `cnn-tui open RUN` to its last step on screen (the status line: 'step N/N')."""
    app = PtyApp(_command() + ["open", str(run_dir)], 160, 48, run_dir.parent, python_env())
    try:
        return app.wait_for(f"step {steps}/{steps}", timeout=120) - app.started
    finally:
        app.stop()


def run(quick: bool, reps: int) -> list[Result]:
    steps = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        run_dir = write_long_run(Path(tmp) / "run", steps)
        size_mb = (run_dir / "events.jsonl").stat().st_size / 1e6
        small = write_long_run(Path(tmp) / "small", 100)
        shows, csvs, tbs, attaches, starts = [], [], [], [], []
        for rep in range(reps):
            starts.append(_attach(small, 100))
            attaches.append(_attach(run_dir, steps))
            shows.append(_seconds(_command() + ["show", str(run_dir)]))
            csvs.append(_seconds(_command() + ["export", str(run_dir), f"{tmp}/csv{rep}", "--to", "csv"]))
            tbs.append(_seconds(_command() + ["export", str(run_dir), f"{tmp}/tb{rep}", "--to", "tensorboard"]))
    what = f"a {steps:,}-step run ({size_mb:.0f} MB events.jsonl)"
    s, c, t, a, a0 = median(shows), median(csvs), median(tbs), median(attaches), median(starts)
    return [
        Result("10 run records", f"cnn-tui open of {what}: launch to its last step on screen (a 100-step "
               f"run: {a0:.2f} s)", f"{a:.2f} s", "<= 3 s more", a - a0 <= 3.0),
        Result("10 run records", f"cnn-tui show of {what}", f"{s:.2f} s", "<= 2 s", s <= 2.0),
        Result("10 run records", f"export --to csv of {what}", f"{c:.1f} s", "<= 30 s", c <= 30.0),
        Result("10 run records", f"export --to tensorboard of {what}", f"{t:.1f} s", "<= 30 s", t <= 30.0),
    ]
