"""The runs list's rows: live runs first (running, paused, starting) with how far along they are,
then the others, newest activity first; a run whose writer died without finishing is *lost*.

Built for a returning user's first look, so it reads only small files per run: summary.json, the
first line of events.jsonl (the run's size) and the liveness record (record.liveness, which reads
the owner, the heartbeat and the last few KB of events.jsonl).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cnn_tui.record.liveness import Liveness, RunState, liveness
from cnn_tui.record.rundir import EVENTS, read_summary

TAIL_BYTES = 65536  # the end of events.jsonl searched for the latest epoch


@dataclass(frozen=True)
class RunRow:
    path: Path
    state: str  # running, paused, starting, lost, or how it finished (completed, interrupted, ...)
    live: bool
    progress: str  # "step 1,200/5,000 (24%) · epoch 3/10" or "epochs 3/10"
    val_acc: str
    last: str  # when it last wrote: "14:02" today, else the date
    mtime: float
    liveness: Liveness

    @property
    def name(self) -> str:
        return self.path.name


def list_runs(runs_dir: Path) -> list[RunRow]:
    """Every run under `runs_dir`: live ones first, then by the time of their last write, newest first."""
    rows: list[RunRow] = []
    if not runs_dir.is_dir():
        return rows
    for run in runs_dir.iterdir():
        try:
            if (run / EVENTS).is_file():
                rows.append(run_row(run))
        except OSError:
            continue  # gone while we looked, or unreadable: not listed
    return sorted(rows, key=lambda r: (not r.live, -r.mtime))


def run_row(run: Path) -> RunRow:
    state = liveness(run)
    summary = read_summary(run) or {}
    mtime = os.stat(run / EVENTS).st_mtime  # its last event (a paused run's heartbeat does not count)
    first = _first_event(run)
    best = summary.get("best") or {}
    val_acc = f"{best['val/acc']:.2%}" if isinstance(best.get("val/acc"), int | float) else ""
    if state.live:
        word = state.state.value
        progress = _live_progress(run, state, first)
    else:
        word = "lost" if state.state is RunState.LOST else str(summary.get("status") or state.status or "ended")
        progress = _finished_progress(summary, first, state)
    return RunRow(run, word, state.live, progress, val_acc, _when(mtime), mtime, state)


def _live_progress(run: Path, state: Liveness, first: dict) -> str:
    step, total = state.step or 0, first.get("total_steps") or 0
    text = f"step {step:,}/{total:,} ({step / total:.0%})" if total else f"step {step:,}"
    epochs = first.get("epochs")
    epoch = _last_epoch(run)
    if epochs:
        text += f" · epoch {min(epoch + 1, epochs)}/{epochs}"
    return text


def _finished_progress(summary: dict, first: dict, state: Liveness) -> str:
    done, planned = summary.get("epochs_completed"), summary.get("epochs_planned") or first.get("epochs")
    if done is not None or planned:
        return f"epochs {done if done is not None else '?'}/{planned or '?'}"
    total = first.get("total_steps")
    return f"step {state.step or 0:,}/{total:,}" if total else ""


def _first_event(run: Path) -> dict:
    try:
        with open(run / EVENTS, encoding="utf-8", errors="replace") as handle:
            data = json.loads(handle.readline(1 << 20))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _last_epoch(run: Path) -> int:
    """The last finished epoch (0 before the first), from the end of events.jsonl."""
    try:
        with open(run / EVENTS, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - TAIL_BYTES))
            tail = handle.read()
    except OSError:
        return 0
    for line in reversed(tail.split(b"\n")[1:]):
        if b'"epoch"' not in line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("epoch"), int):
            return data["epoch"]  # a step's counts from 0 (the one under way), an epoch's the ones done
    return 0


def _when(t: float) -> str:
    same_day = time.localtime(t)[:3] == time.localtime()[:3]
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", time.localtime(t))
