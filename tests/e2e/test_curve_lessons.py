"""Curve reading: the slow-start lesson recipe starts at exactly chance and its diagnosis names the
too-small initial weights; the same net with Kaiming's init does not get that diagnosis."""

from __future__ import annotations

import pytest

from cnn_tui.recipes.loader import load_recipe
from tests.helpers import of_type, run_collect

ONE_EPOCH = ["train.epochs=1", "train.max_steps_per_epoch=50", "data.shapes.num_val=200"]


def _slow_start(tmp_path, *overrides: str) -> list[str]:
    recipe = load_recipe("slow_start_small_init_shapes", [*ONE_EPOCH, *overrides])[0]
    _, events = run_collect(recipe, tmp_path)
    return [d.message for d in of_type(events, "diagnosis") if d.code == "slow_start"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_slow_start_lesson_names_too_small_initial_weights(tmp_path):
    (message,) = _slow_start(tmp_path)
    assert message.startswith("Slow start from too-small initial weights: the first loss (1.79")
    assert "exactly chance (ln 6 = 1.7918)" in message


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_with_kaimings_init_the_same_net_is_not_told_its_weights_are_too_small(tmp_path):
    assert not any("initial weights" in m for m in _slow_start(tmp_path, "model.init=kaiming"))
