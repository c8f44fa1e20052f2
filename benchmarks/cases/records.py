"""Case 10: reading a long run back. `cnn-tui show` of a million-step run (a step event every
step: ~220 MB of events.jsonl) and its export to CSV and to TensorBoard, as users run them
(the console script, a new process each, output to a pipe). Absolute targets, from the issue:
show under 2 s, each export under 30 s on 2 cores."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.cases.startup import _command
from benchmarks.common import Result, median, python_env
from benchmarks.long_run import write_long_run


def _seconds(argv: list[str]) -> float:
    import subprocess

    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, env=python_env())
    return time.perf_counter() - start


def run(quick: bool, reps: int) -> list[Result]:
    steps = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        run_dir = write_long_run(Path(tmp) / "run", steps)
        size_mb = (run_dir / "events.jsonl").stat().st_size / 1e6
        shows, csvs, tbs = [], [], []
        for rep in range(reps):
            shows.append(_seconds(_command() + ["show", str(run_dir)]))
            csvs.append(_seconds(_command() + ["export", str(run_dir), f"{tmp}/csv{rep}", "--to", "csv"]))
            tbs.append(_seconds(_command() + ["export", str(run_dir), f"{tmp}/tb{rep}", "--to", "tensorboard"]))
    what = f"a {steps:,}-step run ({size_mb:.0f} MB events.jsonl)"
    s, c, t = median(shows), median(csvs), median(tbs)
    return [
        Result("10 run records", f"cnn-tui show of {what}", f"{s:.2f} s", "<= 2 s", s <= 2.0),
        Result("10 run records", f"export --to csv of {what}", f"{c:.1f} s", "<= 30 s", c <= 30.0),
        Result("10 run records", f"export --to tensorboard of {what}", f"{t:.1f} s", "<= 30 s", t <= 30.0),
    ]
