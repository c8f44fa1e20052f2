"""Case 13: controlling a live run from another process, as `cnn-tui pause RUN_DIR` and a dashboard do.

A `cnn-tui run` of the built-in scratch recipe trains headless; this process sends `pause` through
the run folder (record/control.py) and measures, on the one clock both share:
- command to the step stopping: from writing the command to the loop's `state: paused` event
  (the writer polls every 0.1 s, then the loop finishes the step it is in);
- command to its acknowledgement: what `cnn-tui pause` waits for before it prints;
- liveness(): one call, as the dashboard makes it every second for every run it lists;
- SIGKILL to `lost`: from killing the run to liveness() saying so.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result, median, python_env
from benchmarks.workload import write_recipe
from cnn_tui.record.control import acknowledgement, request, send_command
from cnn_tui.record.liveness import RunState, liveness


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"timed out after {timeout} s")


def _paused_at(run_dir: Path, after: float) -> float | None:
    """The time of the first `state: paused` event written after `after`."""
    for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines():
        if '"type":"state"' in line:
            event = json.loads(line)
            if event["state"] == "paused" and event["t"] >= after:
                return float(event["t"])
    return None


def run(quick: bool, reps: int) -> list[Result]:
    n = 3 if quick else 10
    stops, acks = [], []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        work = Path(tmp)
        recipe = write_recipe(work, "bench_control", train__epochs=1000, train__early_stopping__enabled=False,
                              data__shapes__num_train=1200, data__shapes__num_val=300)
        proc = subprocess.Popen([sys.executable, "-m", "cnn_tui", "run", str(recipe), "--out", str(work / "runs"),
                                 "--quiet"], env=python_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            def training() -> Path | None:
                if proc.poll() is not None:
                    raise RuntimeError(f"the run exited {proc.returncode}: {proc.stderr.read()[-500:]}")  # type: ignore[union-attr]
                found = list((work / "runs").glob("*/owner.json"))
                if found and (liveness(found[0].parent).step or 0) > 0:
                    return found[0].parent
                return None

            run_dir: Path = _wait(training, 180)
            rng = random.Random(0)
            for _ in range(n):
                time.sleep(rng.uniform(0.3, 0.7))  # anywhere within a step
                sent = time.time()
                cid = request(run_dir, "pause")
                _wait(lambda cid=cid: acknowledgement(run_dir, cid), 30)
                acks.append(time.time() - sent)
                stops.append(_wait(lambda sent=sent: _paused_at(run_dir, sent), 10) - sent)
                send_command(run_dir, "resume")
            calls = 200
            started = time.perf_counter()
            for _ in range(calls):
                liveness(run_dir)
            per_call = (time.perf_counter() - started) / calls
            proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            _wait(lambda: liveness(run_dir).state is RunState.LOST, 10)
            lost = time.monotonic() - killed
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    stop, ack = median(stops), median(acks)
    return [
        Result("13 control", f"`pause` sent to the step stopping (0.1 s poll + the step under way), median of {n} "
               f"(max {max(stops) * 1000:.0f} ms)", f"{stop * 1000:.0f} ms", "<= 1000 ms", stop <= 1.0),
        Result("13 control", f"`pause` sent to acknowledged, median of {n}", f"{ack * 1000:.0f} ms", "<= 1000 ms",
               ack <= 1.0),
        Result("13 control", "liveness() of a live run, one call", f"{per_call * 1e6:.0f} us", "<= 2000 us",
               per_call <= 0.002),
        Result("13 control", "SIGKILL to liveness() saying lost", f"{lost * 1000:.0f} ms", "<= 5000 ms", lost <= 5.0),
    ]
