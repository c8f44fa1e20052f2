"""Coarse-to-fine style transfer: the level plan, a run that changes size midway, resume
from either level, and the recipe rule for levels that would start too small."""

from __future__ import annotations

import pytest
import torch
from PIL import Image as PILImage

from cnn_tui.style.levels import Level, level_at, plan_levels
from cnn_tui.train.control import RunControl
from tests.helpers import of_type, run_collect, stop_at
from tests.unit.test_style import TINY_STYLE, error_of, style_recipe

TWO_LEVELS = ("image_size=64", "multiscale.levels=2", "multiscale.coarse_steps=4", "steps=4",
              "log.every_steps=1", "log.snapshot_every=2")


def test_levels_run_coarse_to_fine_with_one_step_count():
    assert plan_levels(512, 300, 1, 100) == [Level(512, 300)]
    assert plan_levels(512, 300, 3, 100) == [Level(128, 100), Level(256, 200), Level(512, 500)]
    plan = plan_levels(256, 10, 2, 5)
    assert [level_at(plan, s) for s in (0, 4, 5, 14, 15)] == [0, 0, 1, 1, 1]


def test_a_two_level_run_switches_size_midway(tmp_path):
    result, events = run_collect(style_recipe(tmp_path, TINY_STYLE, *TWO_LEVELS), tmp_path / "runs")
    assert result.status == "completed" and result.summary["steps"] == 8
    assert of_type(events, "style_started")[0].total_steps == 8
    assert [e.step for e in of_type(events, "style_step")] == list(range(9))
    images = result.run_dir / "images"
    assert PILImage.open(images / "step_00002.png").size == (32, 22)  # the coarse level (43 / 2 rounds up)
    assert PILImage.open(images / "step_00006.png").size == (64, 43)
    assert PILImage.open(images / "final.png").size == (64, 43)
    assert any("level 2/2: 64x43 px" in e.message for e in of_type(events, "log"))
    assert not any(d.code == "loss_rose" for d in of_type(events, "diagnosis"))  # no rise across the switch


@pytest.mark.parametrize("step", [2, 6], ids=["in the coarse level", "in the fine level"])
def test_resume_from_either_level_finishes_at_full_size(tmp_path, step):
    control = RunControl()
    recipe = style_recipe(tmp_path, TINY_STYLE, *TWO_LEVELS)
    first, _ = run_collect(recipe, tmp_path / "runs", control=control, on_event=stop_at(step, control))
    state = torch.load(first.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["level"] == (0 if step < 4 else 1)
    resumed, events = run_collect(recipe, tmp_path / "runs", resume=first.run_dir)
    assert resumed.status == "completed" and resumed.summary["steps"] == 8
    assert of_type(events, "style_step")[-1].step == 8
    assert PILImage.open(resumed.run_dir / "images" / "final.png").size == (64, 43)


def test_levels_that_would_start_too_small_are_refused(tmp_path):
    message = error_of(tmp_path, TINY_STYLE + "multiscale: {levels: 2}\n")  # 32 px halves to 16
    assert "multiscale.levels: 2 levels from 32 px would start at 16 px" in message
    assert "(got" not in message and "StyleTransferRecipe" not in message  # one readable line, no object dump
