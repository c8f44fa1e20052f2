"""The costly views' budget (cnn_tui/insight/budget.py): drawn while their time stays within a share
of the training time, always at the first and the last epoch, kept across a resume; and the trainer's
views follow it (a view the recipe sets true is drawn every epoch)."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.insight.budget import ViewBudget


def _epochs(budget: ViewBudget, epochs: int, train_s: float, view_s: float) -> list[int]:
    drawn = []
    for epoch in range(1, epochs + 1):
        if budget.due(epoch, epochs, train_s):
            budget.add("gradcam", view_s)
            budget.close()
            drawn.append(epoch)
    return drawn


def test_views_that_cost_a_fifth_of_an_epoch_are_drawn_every_eighth_epoch_and_at_the_last():
    budget = ViewBudget(0.025)
    drawn = _epochs(budget, 38, train_s=10.0, view_s=2.0)  # 2 s a draw against 0.25 s an epoch of budget
    assert drawn == [1, 16, 24, 32, 38]  # the first epoch's draw is paid back before the second
    assert budget.spent <= 0.025 * budget.trained + 2.0  # over it by the last epoch's draw at most
    assert budget.skipped == [e for e in range(1, 39) if e not in drawn]
    assert budget.cadence(10.0) == 8


def test_cheap_views_on_long_epochs_are_drawn_every_epoch():
    assert _epochs(ViewBudget(0.025), 6, train_s=100.0, view_s=1.0) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("share, drawn", [(1.0, list(range(1, 6))), (0.0, [1, 5])])
def test_budget_one_draws_every_epoch_and_zero_only_the_first_and_last(share, drawn):
    assert _epochs(ViewBudget(share), 5, train_s=1.0, view_s=5.0) == drawn


def test_a_resumed_budget_keeps_its_cadence_and_its_forced_views():
    whole = ViewBudget(0.025)
    first = ViewBudget(0.025, forced={"embedding"})
    assert _epochs(first, 10, 10.0, 2.0)[:2] == _epochs(whole, 10, 10.0, 2.0)[:2]
    again = ViewBudget(0.025, forced={"gradcam", "embedding", "top_patches", "wants"})  # a resumed recipe.yaml
    first = ViewBudget(0.025, forced={"embedding"})
    for epoch in range(1, 5):
        if first.due(epoch, 10, 10.0):
            first.add("gradcam", 2.0)
            first.close()
    again.load_state_dict(first.state_dict())
    assert again.forced == {"embedding"} and again.spent == first.spent and again.trained == first.trained
    rest = [e for e in range(5, 11) if again.due(e, 10, 10.0) and (again.add("gradcam", 2.0) or again.close()
                                                                   or True)]
    whole = ViewBudget(0.025)
    assert rest == [e for e in _epochs(whole, 10, 10.0, 2.0) if e >= 5]
    old = ViewBudget(0.025, forced={"gradcam"})
    old.load_state_dict({})  # a checkpoint from before the budget: nothing forced, nothing spent
    assert old.forced == set() and old.drawn == 0


def test_the_skip_line_says_how_often_and_why():
    budget = ViewBudget(0.025)
    _epochs(budget, 3, 10.0, 1.0)
    line = budget.why_skipped(2, 10.0, ["Grad-CAM", "the feature space"])
    assert "every 4th epoch and the last" in line and "2.5%" in line and "views.budget" in line
    assert line.startswith("Grad-CAM and the feature space not drawn at epoch 2:")


@pytest.mark.timeout(120)
def test_the_trainer_draws_the_costly_views_by_the_budget_and_forced_ones_every_epoch(tmp_path):
    """A tiny run whose views cost far more than 2.5% of its training: Grad-CAM, the feature space and
    the top patches at the first and the last epoch only, one diagnosis says why; with
    views.gradcam: true set in the recipe, Grad-CAM every epoch."""
    import json

    from cnn_tui.recipes.loader import load_recipe
    from tests.conftest import TINY_RECIPE
    from tests.helpers import of_type, run_collect

    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    recipe, _ = load_recipe(tmp_path / "tiny.yaml", ["train.epochs=4"])
    result, events = run_collect(recipe, tmp_path / "runs")
    assert [e.epoch for e in of_type(events, "gradcam")] == [1, 4]
    spaces = of_type(events, "embedding")
    at_end = [e for e in spaces if e.tsne or e.tsne_note]  # the last epoch's points again, by t-SNE, at the end
    assert [e.epoch for e in spaces if e not in at_end] == [1, 4] and [e.epoch for e in at_end] == [4]
    assert [e.epoch for e in of_type(events, "top_patches")] == [1, 4]
    assert [e.epoch for e in of_type(events, "feature_maps")] == [1, 2, 3, 4]  # cheap: every epoch
    said = [d for d in of_type(events, "diagnosis") if d.code == "views_budget"]
    assert said and said[0].epoch == 2 and "not drawn" in said[0].message
    cost = json.loads((result.run_dir / "summary.json").read_text())["views_cost"]
    assert cost["drawn"] == 2 and cost["skipped"] == [2, 3] and cost["seconds"]["gradcam"] > 0

    forced, _ = load_recipe(tmp_path / "tiny.yaml", ["train.epochs=3", "views.gradcam=true"])
    _, events = run_collect(forced, tmp_path / "runs2")
    assert [e.epoch for e in of_type(events, "gradcam")] == [1, 2, 3]
    assert [e.epoch for e in of_type(events, "embedding") if not (e.tsne or e.tsne_note)] == [1, 3]


def test_activation_maximisation_gives_up_early_past_its_time():
    from cnn_tui.insight.dream import maximise

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1))
    low, high = torch.tensor([-1.0]), torch.tensor([1.0])
    assert maximise(model, "0", [0], (1, 9, 9), low, high, max_seconds=0.0) is None
    assert maximise(model, "0", [0], (1, 9, 9), low, high, max_seconds=1e-9) is None
    assert maximise(model, "0", [0], (1, 9, 9), low, high, steps=8, max_seconds=60.0) is not None
