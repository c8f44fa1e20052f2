"""The layout of a classification checkpoint, and a reader for the earlier one, so every run folder
written by an earlier cnn-tui still resumes (tests/data/old_runs, tests/unit/test_old_runs.py).

Format 2 (train/saver.py) is one dict keyed by part name. Format 1 kept everything at the top level
(`optimizer`, `scaler`, `schedule`, `phase`, `best`, `early`, `best_weights`, `diagnoser`,
`history`, `elapsed`, rank 0's `rng_cpu`/`sums`/`window`, and `ranks` in a data-parallel run);
checkpoints older than format 1 lack `phase` and some of the rest, read as their defaults. Format 1
runs drew their random numbers with the seed offsets of the time: `streams` 1 (data/streams.py).
`model`, `inference` and `position` (epoch, batch, step) are where they always were, so what reads
only those (predict, export, the test score) reads every format alike."""

from __future__ import annotations

from typing import Any

FORMAT = 2
RANK_KEYS = ("rng_cpu", "rng_cuda", "sums", "window")


def upgrade(state: dict[str, Any]) -> dict[str, Any]:
    """`state` in the current layout (a format-2 state as it is)."""
    if state.get("format", 0) >= FORMAT:
        return state
    phase = state.get("phase", {"index": 0, "start_step": 0})
    return {
        "format": FORMAT,
        "model": state["model"],
        "inference": state.get("inference", {}),
        "position": {**state["position"], "history": state["history"], "elapsed": state.get("elapsed", 0.0)},
        "phases": {"index": phase["index"], "start_step": phase["start_step"], "optimizer": state["optimizer"],
                   "scaler": state["scaler"], "schedule": state["schedule"]},
        "best": {"best": state["best"], "early": state.get("early"), "weights": state.get("best_weights")},
        "health": {"diagnoser": state["diagnoser"]},
        "system": {},
        "streams": 1,
        "ranks": state.get("ranks") or [{k: state[k] for k in RANK_KEYS if k in state}],
        "world_size": state.get("world_size", 1),
    }
