"""Case 6: feature extraction, `mode: precompute` (the frozen base runs once, cached)
against `mode: end_to_end` (the base runs on every batch), on the same data: the median
epoch time after the first, from each run's epoch events."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, median, only_run_dir, read_events, run_python


def _epoch_seconds(out: Path, mode: str, epochs: int) -> float:
    run_python("-m", "cnn_tui", "run", "feature_extraction_faces", "--quiet", "--out", str(out),
               "--set", f"mode={mode}", "--set", f"train.epochs={epochs}",
               "--set", "train.early_stopping.enabled=false", "--set", f"cache_dir={out.parent / 'cache'}")
    seconds = [e["seconds"] for e in read_events(only_run_dir(out)) if e["type"] == "epoch"]
    return median(seconds[1:])  # after the first


def run(quick: bool, reps: int) -> list[Result]:
    epochs = 4 if quick else 8
    pre, e2e = [], []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        for rep in range(reps):
            pre.append(_epoch_seconds(Path(tmp) / f"pre{rep}", "precompute", epochs))
            e2e.append(_epoch_seconds(Path(tmp) / f"e2e{rep}", "end_to_end", epochs))
    p, e = median(pre), median(e2e)
    return [Result("6 feature extraction", "epoch time after the first: end_to_end / precompute",
                   f"{e * 1000:.0f} / {p * 1000:.1f} ms = {e / p:.0f}x", ">= 5x", e / p >= 5)]
