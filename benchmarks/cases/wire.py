"""Case 14: bytes on the wire. What the dashboard writes to its terminal per second while a recipe
trains: at 80x24 (one pane at a time) and 200x50 (every pane), and at 200x50 after `m` (the current
chart maximised). Every byte is what an SSH session carries, so this is the link a user needs.

The real dashboard runs in a pseudo-terminal (benchmarks/pty_app.py) and starts the recipe from its
picker; once steps are being trained, the output is counted over a window of WINDOW_S seconds. The
recipe logs every step, so new data is always waiting for the next redraw: the worst case.

Target: 200x50 streaming a live run within 8 KB/s (64 kbit/s): half of a 128 kbit/s link (a poor
mobile or hotel uplink), so that keys and their answers never queue behind chart updates; 80x24 (a
phone, a small SSH window) within 4 KB/s. Before issue 31: 3.5 KB/s at 80x24, 10-13 KB/s at 200x50.
What is left at 200x50 is mostly the curves themselves: a live curve's x range grows with every step,
so its points move across the whole chart each redraw.

After `m` one chart fills the screen, and each redraw rewrote most of its 44 rows: 54% of the bytes
were colour codes, a reset and the whole style again before every run of blanks between two curves
and before every curve cell after them. The terminal filter (ui/terminal_output.py) now writes a
colour change as the colour alone and paints blanks in whatever colour the terminal has: the same
captured 10 s after `m`, filtered both ways in one process, 71.8 KB before and 44.6 KB after (-38%).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result, median, python_env
from benchmarks.pty_app import PtyApp
from benchmarks.workload import write_recipe

WINDOW_S = 10.0
TARGETS = {"80x24": 4096.0, "200x50": 8192.0, "200x50, m": 8192.0}  # bytes per second


def _bytes_per_second(cols: int, rows: int, window: float) -> dict[str, tuple[float, float]]:
    """{size: (bytes/s, the dashboard's CPU share)} for a live run at this size, and after `m` when the
    screen shows every pane."""
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        # a step event every step and gradient statistics every 5: events arrive faster than the dashboard
        # redraws (twice a second) even on a slow or loaded machine, so what is counted is its pace
        write_recipe(work / "recipes", "bench_wire", train__epochs=1000, train__early_stopping__enabled=False,
                     log__every_steps=1, log__grad_every_steps=5)
        app = PtyApp([sys.executable, "-m", "cnn_tui", "--stop-on-exit", "--recipes", str(work / "recipes")],
                     cols, rows, work, python_env())
        try:
            mark = app.start_recipe("bench_wire")
            app.wait_for("img/s", since=mark, timeout=120)  # steps are being trained
            time.sleep(3.0)  # past the first full paint of the run screen
            out = {f"{cols}x{rows}": _count(app, window)}
            if cols >= 120:
                app.write(b"m")
                time.sleep(2.0)
                out[f"{cols}x{rows}, m"] = _count(app, window)
            return out
        finally:
            app.stop()
            from benchmarks.cases.responsiveness import _wait_for_the_run_to_end

            _wait_for_the_run_to_end(work / "runs")


def _count(app: PtyApp, window: float) -> tuple[float, float]:
    """(bytes the dashboard wrote per second, CPU seconds it took per second) over the window."""
    import psutil

    dashboard = psutil.Process(app.proc.pid)
    start, cpu = app.mark(), sum(dashboard.cpu_times()[:2])
    time.sleep(window)
    return (app.mark() - start) / window, (sum(dashboard.cpu_times()[:2]) - cpu) / window


def run(quick: bool, reps: int) -> list[Result]:
    window = 4.0 if quick else WINDOW_S
    measured: dict[str, list[tuple[float, float]]] = {size: [] for size in TARGETS}
    for _ in range(1 if quick else max(1, reps // 2)):
        for cols, rows in ((80, 24), (200, 50)):
            for size, rate in _bytes_per_second(cols, rows, window).items():
                measured[size].append(rate)
    rows_out = []
    for size, pairs in measured.items():
        rate, cpu = median([b for b, _ in pairs]), median([c for _, c in pairs])
        rows_out.append(Result("14 bytes on the wire", f"terminal output while a recipe trains, {size} "
                               f"(median of {len(pairs)} x {window:.0f} s; the dashboard's CPU: {cpu:.1%} of a core)",
                               f"{rate / 1024:.2f} KB/s ({rate * 8 / 1000:.0f} kbit/s)",
                               f"<= {TARGETS[size] / 1024:.0f} KB/s", rate <= TARGETS[size]))
    return rows_out
