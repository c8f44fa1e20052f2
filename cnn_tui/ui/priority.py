"""Who gets the CPU when the dashboard and the run it started want it at once (issue 31: "the
training process keeps the cores it needs and the UI stays responsive").

On a 2-core laptop a run's threads keep both cores busy; every redraw of the dashboard then takes a
slice from a training step, and every training thread that wakes may delay the key the user just
pressed. The policies, picked with CNN_TUI_PRIORITY (benchmarks/priority_probe.py measures them side
by side, training throughput and tab-to-screen latency in one run; docs/performance.md has the
numbers):

- `batch` (the default): the training process the dashboard starts runs under Linux's SCHED_BATCH.
  The kernel treats it as the CPU-bound job it is: it keeps its full share of the CPU (same weight,
  same nice level), but its threads' wake-ups no longer preempt the dashboard, so a key press is
  drawn at once; and the dashboard, which sleeps most of the time, costs the run no more than it did.
- `nice`: the dashboard lowers its own CPU weight (nice +5) instead; background redraws then yield
  to training, but so does the answer to a key.
- `off`: neither (what cnn-tui did before).

Neither needs root: a process may always make itself or its own child less urgent. Where the
scheduler has no SCHED_BATCH (macOS, Windows) `batch` does nothing; feature detection, not a
platform check, decides. A run followed from its folder (not started here) is left as it is.
"""

from __future__ import annotations

import os
import sys

SETTING = "CNN_TUI_PRIORITY"
SETTINGS = ("batch", "nice", "off")
DASHBOARD_NICE = 5  # `nice`: the dashboard's own nice increment (0..19; higher yields more)
GIL_SWITCH_SECONDS = 0.001  # the dashboard's threads hand over the GIL this often (Python's default: 5 ms)


def priority_setting() -> str:
    """batch (the default), nice or off, from the environment; ValueError names what is allowed."""
    value = os.environ.get(SETTING, "").strip().lower() or "batch"
    if value not in SETTINGS:
        raise ValueError(f"{SETTING}={value!r}: expected one of {', '.join(SETTINGS)}")
    return value


def can_batch() -> bool:
    """Whether this platform's scheduler offers SCHED_BATCH (Linux: yes; macOS, Windows: no)."""
    return hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH") and hasattr(os, "sched_param")


def for_training_child(pid: int) -> str:
    """Apply the policy to the training process just started (before it has started any thread, so
    every thread and data-loading worker it makes inherits it). Returns what was done, for logs and
    tests; never raises: a refused call leaves the run as it was."""
    if priority_setting() != "batch":
        return "unchanged"
    if not can_batch():
        return "unchanged: no SCHED_BATCH on this platform"
    try:
        os.sched_setscheduler(pid, os.SCHED_BATCH, os.sched_param(0))
    except OSError as exc:  # the child has already exited, or a sandbox forbids it
        return f"unchanged: {exc.strerror or exc}"
    return "SCHED_BATCH"


def for_dashboard() -> str:
    """Apply the policy to this (the dashboard's) process, once at launch."""
    if priority_setting() != "nice" or not hasattr(os, "nice"):
        return "unchanged"
    try:
        os.nice(DASHBOARD_NICE)
    except OSError as exc:
        return f"unchanged: {exc.strerror or exc}"
    return f"nice +{DASHBOARD_NICE}"


def for_dashboard_threads() -> float:
    """Within the dashboard: its driver writes each frame from a thread of its own, which needs the
    GIL, while the main thread goes on to the next piece of work (the layout a shown pane's new size
    asks for). With Python's 5 ms switch interval a finished frame waited up to 5 ms for it; at 1 ms
    it goes out at once. Measured side by side (ABBA, 6 reps of 13 tabs under a training load, 2
    cores): tab to screen, median 34 -> 29 ms. Returns the interval it replaced, to restore."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    return before
