"""validate --estimate: a few timed steps give the time per epoch; memory from the layer table."""

from __future__ import annotations

import pytest

from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(120)


def test_the_estimate_counts_memory_and_time(load_tiny):
    import torch

    from cnn_tui.preflight.estimate import estimate

    found = estimate(load_tiny(), torch.device("cpu"))
    assert found["step_s"] > 0 and found["steps_per_epoch"] == 6  # 96 images in batches of 16
    assert found["val_s"] > 0 and found["checkpoint_s"] > 0  # the parts of an epoch beyond its steps
    assert found["ticks"] == 6 // load_tiny().log.grad_every_steps
    parts = (found["step_s"] * 6 + found["tick_extra_s"] * found["ticks"] + found["val_s"] + found["views_s"]
             + found["checkpoint_s"])
    assert found["epoch_s"] == pytest.approx(parts) and found["epoch_s"] > found["step_s"] * 6 + found["val_s"]
    assert found["peak_bytes"] > found["activation_bytes"] > 0


def test_validate_estimate_prints_it(capsys, tiny_recipe_path):
    done = run_here(capsys, "validate", str(tiny_recipe_path), "--estimate")
    assert done.returncode == 0, done.stderr
    assert "an epoch" in done.stdout and "validation" in done.stdout and "peak device memory" in done.stdout
    assert "KMACs per image" in done.stdout and "0.0 MMACs" not in done.stdout  # as the layer table counts them
