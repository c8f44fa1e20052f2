"""A stand-in for the picker's "before you train" child (the real one trains a few steps and takes
seconds to a minute): a Python one-liner printing fixed parts, so screens with it are deterministic."""

from __future__ import annotations

import json
import sys

import pytest

DATA = ["images train 3,600 / val 400; 6 classes, train imbalance 1.0x (largest/smallest class)",
        "skipped none",
        "sizes shapes images are made or unpacked by the loader, then resized to 32x32 (no files of yours to read)",
        "leakage none (train / val: exact and near copies checked)"]
COST = ["size 29,846 parameters (29,846 trainable), 2.8 MMACs an image",
        "memory activations 46.5 MB a batch, peak about 46.9 MB on cpu",
        "time about 5 s an epoch on cpu (57 steps x 41 ms, validation and views 2.3 s)"]


def fake_command(recipe, overrides):
    parts = [{"part": "data", "lines": DATA}, {"part": "cost", "lines": COST}]
    code = "".join(f"print({json.dumps(json.dumps(p))});" for p in parts)
    return [sys.executable, "-c", code]


@pytest.fixture
def fake_preflight(monkeypatch):
    from cnn_tui.ui import preflight_child

    monkeypatch.setattr(preflight_child, "preflight_command", fake_command)
    return fake_command
