"""How often a live run's screen redraws (issue 31: "the training never waits for it").

A run on the CPU keeps every core busy with torch's OpenMP threads, which meet at a barrier after
each parallel region. Every slice of CPU the dashboard takes preempts one of them, and the others
wait for it at the next barrier: measured on 2 cores (scratch recipe, `cnn-tui` at 160x48, ABBA over
4 reps, images/s per epoch), the dashboard used 4.2% of one core (py-spy: three quarters of it
building and composing the curves) and the run under it trained at 0.91 of the same run with the
dashboard frozen (SIGSTOP): twice its own CPU. Redrawing the curves every 5 s and the status line
every second brought it to the frozen dashboard's speed.

So while a run trains on the CPU, the screen redraws less often, in proportion to what it draws:
the curves every CPU_SECONDS_PER_CHART for each chart on screen (one chart, as at 80x24 or
maximised: about as before; all of them at 160x48: every 5 s), the status line, log and diagnosis
once a second. A run on a GPU (its CPU mostly free), a paused or finished run, and every key or
resize keep the old pace: keys are answered at once whatever the pace.
"""

from __future__ import annotations

STATUS_SECONDS = 0.5  # status line, log, diagnosis: at most twice a second, after a change
CURVE_SECONDS = 1.0  # curves (~10 ms each): at most once a second
CPU_STATUS_SECONDS = 1.0  # ... while the run's threads hold this machine's cores
CPU_SECONDS_PER_CHART = 1.25  # ... the curves: this long for each chart on screen,
CPU_CURVE_SECONDS_MAX = 5.0  # ... and never longer than this


def cpu_bound(status: str, device: str | None) -> bool:
    """Whether the run is training on the CPU now (not paused, waiting or over; not on a GPU)."""
    return status == "running" and device == "cpu"


def status_seconds(busy: bool) -> float:
    """Least time between two redraws of the status line, log and diagnosis."""
    return CPU_STATUS_SECONDS if busy else STATUS_SECONDS


def curve_seconds(busy: bool, charts: int) -> float:
    """Least time between two redraws of the curves, `charts` of them on screen."""
    if not busy:
        return CURVE_SECONDS
    return min(CPU_CURVE_SECONDS_MAX, max(CURVE_SECONDS, CPU_SECONDS_PER_CHART * charts))
