"""Shared pieces: results, medians, subprocess runs, reading run directories."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    case: str
    measure: str  # what was measured, in words
    value: str  # the median (and the baseline's), formatted
    target: str
    ok: bool

    @property
    def verdict(self) -> str:
        return "PASS" if self.ok else "FAIL"


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def python_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TEXTUAL", None)
    return env


def run_python(*args: str, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd or ROOT,
                            env=python_env(), timeout=timeout)
    if result.returncode not in (0, 130):
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr[-800:]}")
    return result


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in: {text[-300:]}")


def only_run_dir(parent: Path) -> Path:
    (run_dir,) = [p for p in parent.iterdir() if p.is_dir()]
    return run_dir


def read_events(run_dir: Path) -> list[dict]:
    with open(run_dir / "events.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def training_seconds(run_dir: Path) -> tuple[float, int]:
    """Wall time from the run_started event to the finished event, and images trained."""
    events = read_events(run_dir)
    started = next(e for e in events if e["type"] == "run_started")
    finished = next(e for e in events if e["type"] == "finished")
    images = finished["step"] * started["batch_size"]
    return finished["t"] - started["t"], images


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
