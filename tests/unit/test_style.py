"""Neural style transfer: the Gram matrix, the losses, the truncated feature net, the loop,
the recipe rules, and a whole run with its images, stop and resume."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image as PILImage

from cnn_tui.contract.errors import RecipeError
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.style.feature_nets import FeatureExtractor, build_feature_net, truncate
from cnn_tui.style.images import load_image, mosaic
from cnn_tui.style.layer_names import layer_names
from cnn_tui.style.losses import StyleObjective, gram_matrix, total_variation
from cnn_tui.style.optimize import make_optimizer, to_latent, to_pixels
from cnn_tui.train.control import RunControl
from tests.helpers import of_type, run_collect, run_paused_from_the_start, stop_at

TINY_STYLE = """\
kind: style_transfer
name: tiny_style
seed: 2
content_image: sample:chelsea
style_image: sample:mosaic
image_size: 32
feature_net: {name: random}
content_layers: [relu3_1]
style_layers: [relu1_1, relu2_1, relu3_1]
style_weight: 1000000
steps: 8
log: {every_steps: 2, snapshot_every: 3}
"""


def style_recipe(tmp_path, text=TINY_STYLE, *overrides):
    path = tmp_path / "style.yaml"
    path.write_text(text)
    return load_recipe(path, list(overrides))[0]


def error_of(tmp_path, text, *overrides) -> str:
    with pytest.raises(RecipeError) as info:
        style_recipe(tmp_path, text, *overrides)
    return str(info.value)


# ---------------------------------------------------------------- maths

def test_gram_matrix_matches_a_direct_computation():
    torch.manual_seed(0)
    features = torch.randn(2, 3, 4, 5)
    gram = gram_matrix(features)
    b, c, h, w = features.shape
    for n in range(b):
        for i in range(c):
            for j in range(c):
                direct = sum(features[n, i, y, x] * features[n, j, y, x] for y in range(h) for x in range(w))
                assert gram[n, i, j] == pytest.approx(float(direct) / (c * h * w), rel=1e-5, abs=1e-6)
    assert torch.allclose(gram, gram.transpose(1, 2))  # symmetric


def test_total_variation_is_zero_for_a_flat_image_and_positive_for_noise():
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    assert total_variation(torch.rand(1, 3, 8, 8)).item() > 0.01


def small_objective(content, style, **weights):
    net = build_feature_net("random", "none", "avg", seed=0)
    content_layers, style_layers = ["relu3_1"], ["relu1_1", "relu2_1", "relu3_1"]
    extractor = FeatureExtractor(net, content_layers + style_layers)
    return StyleObjective(extractor, content, style, content_layers, style_layers, [1 / 3] * 3,
                          weights.get("content_weight", 1.0), weights.get("style_weight", 1e3),
                          weights.get("tv_weight", 0.0))


def test_losses_are_zero_when_the_image_is_its_target():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 24, 24)
    other = torch.rand(1, 3, 24, 24)
    same = small_objective(image, image)(image)
    assert same.content.item() == 0.0 and same.style.item() == 0.0 and same.total.item() == 0.0
    # against its own content but another style, only the style term is left
    mixed = small_objective(image, other)(image)
    assert mixed.content.item() == 0.0 and mixed.style.item() > 0
    assert mixed.total.item() == pytest.approx(mixed.content.item() + mixed.style.item() + mixed.tv.item())


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_few_steps_on_a_tiny_net_lower_the_total_loss(optimizer):
    torch.manual_seed(0)
    content, style = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24) * 0.5
    objective = small_objective(content, style, tv_weight=0.1)
    latent = to_latent(content).requires_grad_(True)
    opt = make_optimizer(latent, optimizer, 1.0 if optimizer == "lbfgs" else 0.02, 20)
    before = objective(to_pixels(latent)).total.item()

    def closure():
        opt.zero_grad()
        loss = objective(to_pixels(latent)).total
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    image = to_pixels(latent)
    after = objective(image).total.item()
    assert after < before * 0.9, (before, after)
    assert 0.0 <= image.min().item() and image.max().item() <= 1.0  # valid without any clamp


def test_truncated_net_returns_the_full_nets_activations_and_nothing_deeper():
    net = build_feature_net("random", "none", "max", seed=1)
    wanted = ["conv1_1", "relu2_1", "conv3_1"]
    extractor = FeatureExtractor(net, wanted)
    names = [n for n, _ in extractor.layers.named_children()]
    assert names[-1] == "conv3_1" and "relu3_1" not in names  # nothing after the deepest wanted layer
    image = torch.rand(1, 3, 32, 32)
    got = extractor(image)
    x = (image - extractor.mean) / extractor.std
    full = {}
    for name, layer in net.layers.named_children():  # the whole net, layer by layer
        x = layer(x)
        full[name] = x
    assert set(got) == set(wanted)
    for name in wanted:
        assert torch.equal(got[name], full[name])
    assert [n for n, _ in truncate(net.layers, ["relu1_1"]).named_children()] == ["conv1_1", "relu1_1"]


def test_saved_conv_outputs_are_not_overwritten_by_relu():
    net = build_feature_net("vgg16", "none", "max", seed=0)
    assert not any(getattr(m, "inplace", False) for m in net.layers.modules())
    extractor = FeatureExtractor(net, ["conv1_1", "relu1_1"])
    out = extractor(torch.rand(1, 3, 16, 16))
    assert (out["conv1_1"] < 0).any()  # still the raw conv output
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp(min=0))
    assert not any(p.requires_grad for p in extractor.parameters())  # frozen
    assert not extractor.training


def test_layer_names_match_the_built_nets():
    for name in ("vgg16", "random", "efficientnet_lite0"):
        net = build_feature_net(name, "none", "avg", seed=0)
        assert [n for n, _ in net.layers.named_children()] == layer_names(name)
    assert layer_names("vgg19")[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert "conv4_2" in layer_names("vgg19") and "conv5_4" in layer_names("vgg19")


def test_random_net_is_seeded():
    a, b = build_feature_net("random", "none", "avg", 5), build_feature_net("random", "none", "avg", 5)
    c = build_feature_net("random", "none", "avg", 6)
    assert torch.equal(a.layers.conv2_1.weight, b.layers.conv2_1.weight)
    assert not torch.equal(a.layers.conv2_1.weight, c.layers.conv2_1.weight)


# ---------------------------------------------------------------- images

def test_images_load_from_samples_and_files_with_their_aspect(tmp_path):
    cat = load_image("sample:chelsea", 64, "content_image")
    assert cat.shape == (1, 3, 43, 64) and 0.0 <= cat.min() and cat.max() <= 1.0
    mosaic().save(tmp_path / "m.png")
    assert load_image(str(tmp_path / "m.png"), 40, "style_image").shape == (1, 3, 40, 40)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    from cnn_tui.contract.errors import DataError

    with pytest.raises(DataError, match="style_image: .*broken.jpg: cannot read this image"):
        load_image(str(tmp_path / "broken.jpg"), 40, "style_image")
    with pytest.raises(RecipeError, match="content_image: .*nope.png: no such image file"):
        load_image(str(tmp_path / "nope.png"), 40, "content_image")


# ---------------------------------------------------------------- recipe rules

def test_style_recipe_defaults_follow_the_paper(tmp_path):
    recipe = style_recipe(tmp_path, "kind: style_transfer\nname: s\n")
    assert recipe.feature_net.name == "vgg19" and recipe.feature_net.weights == "imagenet"
    assert recipe.content_layers == ["conv4_2"]
    assert recipe.style_layers == ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    assert recipe.style_layer_weights == [0.2] * 5
    assert recipe.optimizer.name == "lbfgs" and recipe.optimizer.lr == 1.0
    assert style_recipe(tmp_path, "kind: style_transfer\noptimizer: {name: adam}\n").optimizer.lr == 0.02
    assert (recipe.content_weight, recipe.style_weight, recipe.tv_weight) == (1.0, 10.0, 10.0)


def test_style_recipe_errors_name_the_field(tmp_path):
    base = "kind: style_transfer\nname: s\nfeature_net: {name: random}\n"
    message = error_of(tmp_path, base + "style_layers: [conv1_1, conv9_1]\n")
    assert "style.yaml:4: style_layers: 'conv9_1' is not a layer of random; allowed: conv1_1" in message
    message = error_of(tmp_path, base + "style_layers: [conv1_1]\nstyle_layer_weights: [1, 2]\n")
    assert "style_layer_weights: 2 weights for 1 style layers" in message
    random_imagenet = "kind: style_transfer\nfeature_net: {name: random, weights: imagenet}\n"
    assert "never trained" in error_of(tmp_path, random_imagenet)
    assert "unknown sample 'sample:monet'" in error_of(tmp_path, base + "style_image: sample:monet\n")
    assert "did you mean 'style_weight'" in error_of(tmp_path, base + "style_weigth: 3\n")
    assert "data: style transfer has no data section; it uses content_image:" in error_of(
        tmp_path, base + "data: {dataset: shapes}\n")  # no dataset in this kind
    assert "train: style transfer has no train section; it uses steps" in error_of(
        tmp_path, base, "train.epochs=3")  # what `cnn-tui run --epochs 3` sets
    vgg11 = "kind: style_transfer\nfeature_net: {name: vgg11}\n"
    assert "allowed: 'vgg19', 'vgg16', 'random'" in error_of(tmp_path, vgg11)


def test_style_image_paths_resolve_relative_to_the_recipe(tmp_path):
    recipe = style_recipe(tmp_path, TINY_STYLE.replace("sample:mosaic", "pics/style.png"))
    assert recipe.style_image == str(tmp_path / "pics" / "style.png")
    assert recipe.content_image == "sample:chelsea"


# ---------------------------------------------------------------- whole runs

def test_a_run_writes_snapshots_final_image_and_summary(tmp_path):
    result, events = run_collect(style_recipe(tmp_path), tmp_path / "runs")
    assert result.status == "completed" and result.exit_code == 0
    run_dir = result.run_dir
    names = sorted(p.name for p in (run_dir / "images").iterdir())
    assert names == ["content.png", "final.png", "step_00000.png", "step_00003.png", "step_00006.png", "style.png"]
    assert not list((run_dir / "images").glob(".*"))  # no temp files left
    final = PILImage.open(run_dir / "images" / "final.png")
    assert final.size == (32, 21)
    images = of_type(events, "image")
    assert [e.tag for e in images][:2] == ["content", "style"] and images[-1].tag == "final"
    assert images[-1].path == "images/final.png"
    steps = of_type(events, "style_step")
    assert steps[0].step == 0 and steps[-1].step == 8
    assert set(steps[-1].metrics) == {"loss/total", "loss/content", "loss/style", "loss/tv",
                                      "style/relu1_1", "style/relu2_1", "style/relu3_1"}
    assert steps[-1].metrics["loss/style"] < steps[0].metrics["loss/style"]
    started = of_type(events, "style_started")[0]
    assert started.kind == "style_transfer" and started.total_steps == 8 and started.trainable_params == 0
    assert (started.width, started.height) == (32, 21) and started.levels == [32]
    assert all(e.steps_per_sec > 0 for e in steps[1:])  # the speed it reports is its own: steps/s
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["final_image"] == "images/final.png"
    assert summary["style_loss_drop"] > 2
    assert any(d.code == "style_fell" for d in of_type(events, "diagnosis"))
    assert of_type(events, "finished")[0].status == "completed"


def test_stop_keeps_the_image_and_resume_finishes_the_steps(tmp_path):
    control = RunControl()
    recipe = style_recipe(tmp_path)
    result, _ = run_collect(recipe, tmp_path / "runs", control=control, on_event=stop_at(4, control))
    assert result.status == "interrupted" and result.exit_code == 130
    assert (result.run_dir / "images" / "final.png").exists()
    state = torch.load(result.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["kind"] == "style_transfer" and state["step"] == 4
    resumed, events = run_collect(recipe, tmp_path / "runs", resume=result.run_dir)
    assert resumed.status == "completed" and resumed.run_dir == result.run_dir
    assert of_type(events, "style_started")[0].resumed and of_type(events, "style_step")[0].step == 6
    assert resumed.summary["steps"] == 8


@pytest.mark.timeout(180)
def test_pause_holds_the_loop(tmp_path):
    """Paused before the first step: no step until resumed, then every step (tests/helpers.py)."""
    result, _ = run_paused_from_the_start(style_recipe(tmp_path), tmp_path / "runs", "style_step")
    assert result.status == "completed"


def test_a_nan_loss_ends_diverged_with_the_last_good_image(tmp_path, monkeypatch):
    from cnn_tui.style import losses

    original = losses.StyleObjective.__call__
    calls = {"n": 0}

    def poisoned(self, image):
        calls["n"] += 1
        out = original(self, image)
        if calls["n"] > 6:
            out.total = out.total * float("nan")
        return out

    monkeypatch.setattr(losses.StyleObjective, "__call__", poisoned)
    result, events = run_collect(style_recipe(tmp_path), tmp_path / "runs")
    assert result.status == "diverged" and result.exit_code == 1
    final = PILImage.open(result.run_dir / "images" / "final.png")
    assert final.getextrema()[0][1] > 0  # a real picture, not NaN turned black
    assert any(d.code == "nan" for d in of_type(events, "diagnosis"))


def test_an_image_too_small_for_the_layers_is_a_clear_error(tmp_path):
    recipe = style_recipe(tmp_path, TINY_STYLE, "style_layers=[relu5_1]")
    with pytest.raises(RecipeError, match=r"image_size: a 32x21 px image is too small for random down to relu5_1"):
        run_collect(recipe, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_dry_run_writes_nothing(tmp_path):
    result, events = run_collect(style_recipe(tmp_path), tmp_path / "runs", dry_run=True)
    assert result.status == "completed" and result.run_dir is None
    assert of_type(events, "style_step")[-1].step == 2
    assert not (tmp_path / "runs").exists()
