"""The style loop's promises: what it logs is the loss of the image it holds, the loss
never goes back up under L-BFGS, a run that does go backwards says so, and a checkpoint
from before the parametrisation still resumes."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.contract.sinks import CallbackSink
from cnn_tui.style.feature_nets import FeatureExtractor, build_feature_net
from cnn_tui.style.images import load_image
from cnn_tui.style.levels import plan_levels
from cnn_tui.style.losses import StyleObjective
from cnn_tui.style.optimize import StyleTransfer
from cnn_tui.train.control import RunControl
from tests.helpers import of_type, run_collect, stop_at
from tests.unit.test_style import TINY_STYLE, style_recipe


def lite0_loop(tmp_path, style: str, *overrides: str):
    """A Lite0 loop on the cat and `style` at 64 px, and the events it emits."""
    recipe = style_recipe(tmp_path, TINY_STYLE, "feature_net.name=efficientnet_lite0", "feature_net.weights=imagenet",
                          "content_layers=[stage4]", "style_layers=[stem,stage1,stage2]", "log.every_steps=1",
                          "log.snapshot_every=1000", "image_size=64", f"style_image={style}", *overrides)
    net = build_feature_net("efficientnet_lite0", "imagenet", "avg", 0)
    extractor = FeatureExtractor(net, recipe.content_layers + recipe.style_layers)
    content = load_image(recipe.content_image, 64, "content_image")
    objective = StyleObjective(extractor, content, load_image(style, 64, "style_image"), recipe.content_layers,
                               recipe.style_layers, recipe.style_layer_weights, recipe.content_weight,
                               recipe.style_weight, recipe.tv_weight)
    events: list = []
    levels = plan_levels(64, recipe.steps, 1, 0)
    loop = StyleTransfer(recipe, levels, lambda size: objective, content, torch.device("cpu"),
                         CallbackSink(events.append), RunControl(), None)
    return loop, objective, events


def test_logged_losses_are_those_of_the_image_the_step_ended_on(tmp_path):
    # lr=5 overshoots, so each step evaluates the loss ~3 times at different points: logging
    # the step's first evaluation (the image before the step) fails here
    loop, objective, events = lite0_loop(tmp_path, "sample:rocket", "steps=30", "optimizer.lr=5")
    checked = []

    def check(event):
        if event.type == "style_step" and event.step > 0:
            with torch.no_grad():
                fresh = objective(loop.image).total.item()
            checked.append((event.metrics["loss/total"], fresh))

    loop.sink = CallbackSink(lambda e: (events.append(e), check(e)))
    assert loop.run().status == "completed"
    assert len(checked) == 30
    for logged, fresh in checked:
        assert abs(logged - fresh) <= 1e-4 * fresh, checked


def test_the_pair_that_used_to_climb_now_only_falls(tmp_path):
    """Cat x rocket photo on Lite0: with pixels clamped after each L-BFGS step the total
    rose on most steps and ended above its start; now it never rises."""
    loop, _, events = lite0_loop(tmp_path, "sample:rocket", "steps=40")
    outcome = loop.run()
    totals = [e.metrics["loss/total"] for e in of_type(events, "style_step")]
    assert len(totals) == 41
    assert all(b <= a * 1.000001 for a, b in zip(totals, totals[1:])), totals
    assert outcome.rises == 0 and totals[-1] < totals[0] / 3
    assert not any(d.code == "loss_rose" for d in of_type(events, "diagnosis"))


def test_a_run_that_goes_backwards_says_so(tmp_path):
    """Adam with a step far too large overshoots: the run must not read as a success."""
    recipe = style_recipe(tmp_path, TINY_STYLE, "optimizer.name=adam", "optimizer.lr=60", "log.every_steps=1",
                          "steps=12")
    result, events = run_collect(recipe, tmp_path / "runs")
    rose = [d for d in of_type(events, "diagnosis") if d.code == "loss_rose"]
    assert len(rose) == 1 and rose[0].severity == "warning"
    assert "went up" in rose[0].message and "lower optimizer.lr" in rose[0].message
    assert "but the loss went up" in of_type(events, "finished")[0].reason
    assert result.summary["status"] == "completed"


def test_a_checkpoint_from_before_the_parametrisation_still_resumes(tmp_path):
    control = RunControl()
    recipe = style_recipe(tmp_path)
    first, _ = run_collect(recipe, tmp_path / "runs", control=control, on_event=stop_at(4, control))
    path = first.run_dir / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    image = state["image"]
    del state["latent"]  # the old layout: pixels, and an optimiser state that moved pixels
    torch.save(state, path)
    resumed, events = run_collect(recipe, tmp_path / "runs", resume=first.run_dir)
    assert resumed.status == "completed" and resumed.summary["steps"] == 8
    assert any("predates the image's parametrisation" in e.message for e in of_type(events, "log"))
    assert image.min() >= 0 and image.max() <= 1


@pytest.mark.parametrize(("seconds", "reasons"), [(0.0, ["last", "last", "final"]), (1e9, ["final"])])
def test_checkpoints_are_written_by_time_and_at_the_end(tmp_path, monkeypatch, seconds, reasons):
    """L-BFGS's history makes last.pt ~20 MB at 256 px: at a snapshot only when
    CHECKPOINT_SECONDS have passed, and always when the run ends."""
    from cnn_tui.style import optimize

    monkeypatch.setattr(optimize, "CHECKPOINT_SECONDS", seconds)
    result, events = run_collect(style_recipe(tmp_path), tmp_path / "runs")  # snapshots at steps 3 and 6 of 8
    assert [e.reason for e in of_type(events, "checkpoint")] == reasons
    assert torch.load(result.run_dir / "checkpoints" / "last.pt", weights_only=True)["step"] == 8
