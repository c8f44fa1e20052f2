"""`show --json`: the summary and downsampled series for scripts (NaN and inf become null)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from cnn_tui.record.history import RunHistory
from cnn_tui.record.liveness import liveness
from cnn_tui.record.scan import Scan

STARTED_FIELDS = ("run_id", "recipe_name", "kind", "device", "device_name", "model_name", "total_params",
                  "trainable_params", "total_steps", "epochs", "steps_per_epoch", "batch_size", "num_train",
                  "num_val", "num_test", "num_classes", "class_names", "width", "height", "levels")


def evenly(n: int, most: int) -> list[int]:
    """Indices of at most `most` of n items, evenly spaced, first and last kept."""
    if n <= most:
        return list(range(n))
    if most <= 1:
        return [n - 1]
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def run_json(history: RunHistory, scan: Scan, points: int) -> dict[str, Any]:
    started = dataclasses.asdict(history.first) if history.first else {}
    steps = [history.steps[i] for i in evenly(len(history.steps), points)]
    epochs = [history.epochs[i] for i in evenly(len(history.epochs), points)]
    step_names = history.step_metric_names()
    epoch_names = list(dict.fromkeys(k for e in epochs for k in e.metrics))
    f = history.finished
    live = liveness(history.run_dir)
    doc: dict[str, Any] = clean({
        "run_dir": str(history.run_dir),
        "status": f.status if f else ("running" if history.first else "not_started"),
        "reason": f.reason if f else "",
        "state": live.state.value,  # running, paused, finished, lost, starting: the writer's liveness now
        "state_line": live.describe(),
        "resume_command": live.resume_command,
        "started": {k: started[k] for k in STARTED_FIELDS if k in started},
        "segments": history.segments,
        "summary": history.summary,
        "diagnoses": [{"severity": d.severity, "code": d.code, "message": d.message, "epoch": d.epoch,
                       "step": d.step} for d in history.diagnoses],
        "test": dataclasses.asdict(history.test) if history.test else None,
        "images": [{"step": i.step, "path": i.path, "tag": i.tag} for i in history.images],
        "series": {
            "step": {"step": [e.step for e in steps], **{n: [e.metrics.get(n) for e in steps] for n in step_names}},
            "epoch": {"epoch": [e.epoch for e in epochs], "step": [e.step for e in epochs],
                      **{n: [e.metrics.get(n) for e in epochs] for n in epoch_names}},
        },
        "points": {"step_events_in_file": scan.dense_in_file, "step_events_read": scan.dense_read,
                   "sampled": scan.sampled or len(steps) < len(history.steps)},
    })
    return doc
