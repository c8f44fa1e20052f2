"""OpenMP's spin-wait, chosen before torch loads from what the other processes are doing (issue 31:
the training keeps its speed when something else wants a core, and loses nothing when nothing does).

torch's CPU kernels run on a team of OpenMP threads (GNU libgomp in the pip wheels), one per core,
that meet at a barrier after every parallel region. A thread that arrives first spins (GOMP_SPINCOUNT
iterations; libgomp's default 300,000) before it sleeps. When every core is the team's, that
spinning is free; when one core is shared with anything else (another job, a browser, and above
all another *session*: Linux's autogroup shares the CPU between sessions first, so a run started
in a session of its own gets half of 2 cores against one busy process elsewhere) the spinning
thread burns the time slice its late partner needs, and every barrier costs a slice.

Measured on this 2-core machine (scratch recipe, images/s per epoch, `python -m
benchmarks.contention_probe`): beside one busy process in another session, the default 110-132 and
3,000 spins 1,180-1,216 (9-11x). Quiet, the limit's cost was unsettled: the probe's pairs said
0.97x, benchmark case 1 (8 pairs) put `cnn-tui run` at 0.886 of a loop with it and 0.997 without.
So the limit is applied only where it pays: a command that trains samples the CPU time the *other*
processes used over OTHERS_WINDOW_S (this process and the one that started it, e.g. the dashboard,
left out) and limits the spin only when they kept at least BUSY_CORES of a core busy. A load that
starts after the run has started is not seen (libgomp reads its environment once, when it loads);
set GOMP_SPINCOUNT yourself for that: a value the user set always wins.

Every process the run starts (data-parallel ranks, helpers) inherits the choice.
"""

from __future__ import annotations

import os
import time
from collections.abc import MutableMapping
from pathlib import Path

SPIN_COUNT = "3000"  # iterations a waiting OpenMP thread spins before it sleeps, when cores are shared
BUSY_CORES = 0.5  # the others' load, in cores, from which the spin is limited
OTHERS_WINDOW_S = 0.2  # how long the others' load is sampled (the kernel counts in 10 ms ticks)
TRAINING_COMMANDS = frozenset({"run", "lr-find", "compare", "predict", "views"})  # those that load torch to compute


def choose_spin_wait(env: MutableMapping[str, str], others_cores: float | None) -> str | None:
    """The GOMP_SPINCOUNT in force after the choice: the user's own, SPIN_COUNT where the others kept
    at least BUSY_CORES busy, else None (libgomp's default; also where the load could not be read)."""
    if "GOMP_SPINCOUNT" in env:
        return env["GOMP_SPINCOUNT"]
    if others_cores is not None and others_cores >= BUSY_CORES:
        env["GOMP_SPINCOUNT"] = SPIN_COUNT
        return SPIN_COUNT
    return None


def _busy_ticks(proc: Path = Path("/proc")) -> tuple[int, int]:
    """(all CPUs' busy ticks, this process's and its parent's ticks) from /proc, Linux only."""
    fields = (proc / "stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    ours = 0
    for pid in ("self", str(os.getppid())):
        try:  # utime and stime: fields 14 and 15, counted after the ")" that ends the command's name
            stat = (proc / pid / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the parent is gone
            continue
        ours += int(stat[11]) + int(stat[12])
    return user + nice + system + irq + softirq + steal, ours


def others_load(window_s: float = OTHERS_WINDOW_S, proc: Path = Path("/proc")) -> float | None:
    """Cores the other processes kept busy over window_s; None where /proc cannot tell (not Linux)."""
    try:
        busy0, ours0 = _busy_ticks(proc)
        start = time.monotonic()
        time.sleep(window_s)
        busy1, ours1 = _busy_ticks(proc)
        elapsed = time.monotonic() - start
    except (OSError, ValueError, IndexError):
        return None
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    return max(0, (busy1 - busy0) - (ours1 - ours0)) / ticks_per_s / elapsed


def spin_wait_for(command: str | None, env: MutableMapping[str, str] = os.environ) -> str | None:
    """Choose the spin-wait for `command` before it imports torch (commands that do not train: untouched)."""
    if command not in TRAINING_COMMANDS or "GOMP_SPINCOUNT" in env:
        return env.get("GOMP_SPINCOUNT")
    return choose_spin_wait(env, others_load())
