"""Grad-CAM looks at the shape, not the background: measured against the shapes generator's own masks.

The measure, per correctly classified image: the share of the heat's mass inside the shape's mask.
Heat spread evenly (or at random) scores the mask's area share, ~0.23 on shapes, so the test asks for
  * lift >= 1.5: the heat inside the shape is at least 1.5 times as dense as over the whole image
    (median over the images; trained nets measure 1.8-2.0, an untrained one ~1.0), and
  * share >= 0.5 inside the mask grown by half a cell of the map the heat comes from: a map of h x h
    cells on an H px image cannot place heat finer than H / h px, so heat on the shape's outline (where
    the class is decided: colour and fill carry no label) spills half a cell outside it. "Most of the
    mass on the shape" at the resolution the method has (trained nets: 0.6-0.9).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from cnn_tui.data.shapes import generate_with_masks
from cnn_tui.insight.gradcam import grad_cam, last_spatial_layer, map_module, share_inside
from cnn_tui.recipes.loader import load_recipe
from tests.helpers import run_collect

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
MIN_LIFT, MIN_NEAR_SHARE = 1.5, 0.5


def localisation(model, mean, std, size: int, classes, channels: int = 3) -> tuple[float, float, int]:
    """(median lift, median share inside the half-cell-grown mask, images counted) over 64 new shapes."""
    pixels, labels, masks = generate_with_masks(64, size, classes, 0.05, seed=1234)
    x = torch.from_numpy(pixels).float() / 255
    if channels == 1:
        x = x.mean(1, keepdim=True)
    x = (x - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    layer = last_spatial_layer(model, x)
    assert layer is not None
    cams = grad_cam(model, x, layer)
    seen: list[int] = []
    module, is_input = map_module(model, layer)
    handle = module.register_forward_pre_hook(lambda _m, i: seen.append(i[0].shape[-1])) if is_input else \
        module.register_forward_hook(lambda _m, _i, out: seen.append(out.shape[-1]))
    with torch.no_grad():
        model.eval()(x[:1])
    handle.remove()
    half_cell = int(size / seen[0] // 2)
    mask = torch.from_numpy(masks).float()
    grown = F.max_pool2d(mask[:, None], 2 * half_cell + 1, 1, half_cell)[:, 0] if half_cell else mask
    right = [i for i in range(len(labels)) if cams.predicted[i] == labels[i]]
    lifts = [share_inside(cams.maps[i], mask[i]) / float(mask[i].mean()) for i in right]
    near = [share_inside(cams.maps[i], grown[i]) for i in right]
    return statistics.median(lifts), statistics.median(near), len(right)


def _trained(tmp_path, recipe_name: str, *overrides: str):
    from cnn_tui.engine.predict import from_run

    recipe = load_recipe(RECIPES / f"{recipe_name}.yaml", ["views.gradcam=false", "views.embedding=false",
                                                           "views.top_patches=false", *overrides])[0]
    result, _ = run_collect(recipe, tmp_path / "runs")
    classifier = from_run(result.run_dir)
    return classifier, recipe


def _check(classifier, recipe) -> None:
    lift, near, counted = localisation(classifier.model, classifier.mean, classifier.std, classifier.image_size,
                                       recipe.data.shapes.classes, classifier.channels)
    print(f"localisation: lift {lift:.2f}, near share {near:.3f}, {counted} of 64 right")  # the sweep's record (-rP)
    assert counted >= 16, f"only {counted} of 64 classified right: train longer for a fair measure"
    assert lift >= MIN_LIFT and near >= MIN_NEAR_SHARE, (lift, near, counted)


@pytest.mark.timeout(180)
def test_gradcam_of_a_briefly_trained_scratch_cnn_is_on_the_shape(tmp_path):
    classifier, recipe = _trained(tmp_path, "scratch_cnn", "train.epochs=6", "data.shapes.num_train=1600",
                                  "data.shapes.num_val=100", "data.shapes.classes=[circle,square,cross,triangle]",
                                  "train.early_stopping.enabled=false")
    _check(classifier, recipe)


def test_an_untrained_network_does_not_pass_the_measure():
    """The guard against a measure that anything passes: random weights spread the heat about."""
    from cnn_tui.models.build import build_model

    recipe = load_recipe(RECIPES / "scratch_cnn.yaml", [])[0]
    torch.manual_seed(0)
    model = build_model(recipe.model, 3, 32, 6)
    lift, near, _ = localisation(model, torch.full((3,), 0.5), torch.full((3,), 0.25), 32, recipe.data.shapes.classes)
    assert lift < MIN_LIFT or near < MIN_NEAR_SHARE


def test_the_heat_is_placed_where_each_cell_looks_not_stretched_over_the_image():
    """LeNet-5's geometry (5 x 5 convs without padding, 2 x 2 pools): conv2's 10 x 10 map on a 32 px
    image has its cells' fields centred at px 6.5, 8.5, ..., 24.5; heat in cell (0, 0) belongs at
    (6.5, 6.5), not at (1.1, 1.1) where stretching the map over the image puts it."""
    import torch.nn as nn

    from cnn_tui.insight.gradcam import place
    from cnn_tui.models.receptive import FieldTracker

    net = nn.Sequential(nn.Conv2d(1, 1, 5), nn.AvgPool2d(2), nn.Conv2d(1, 1, 5))
    x = torch.zeros(1, 1, 32, 32)
    with FieldTracker(x) as tracker:
        out = net(x)
    field = tracker.field(out)
    assert out.shape[-1] == 10 and field.jump == (2, 2) and field.start == (6.5, 6.5)
    cam = torch.zeros(1, 1, 10, 10)
    cam[0, 0, 0, 0] = 1.0
    heat = place(cam, field, (32, 32))[0, 0]
    assert heat[:7, :7].min() == 1  # up to the cell's centre (no cell is closer to these pixels)...
    assert heat[7, 7] == pytest.approx(0.75 ** 2) and heat[8, 8] == pytest.approx(0.25 ** 2)  # ...then down
    assert heat[9:, :].max() == 0 and heat[:, 9:].max() == 0  # to nothing at the next cell's centre (8.5)
    padded = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1),
                           nn.MaxPool2d(2))  # VGG's: the cells tile the image, placing is the usual upsampling
    with FieldTracker(x) as tracker:
        out = padded(x)
    cam = torch.rand(2, 1, 8, 8)
    assert torch.allclose(place(cam, tracker.field(out), (32, 32)),
                          F.interpolate(cam, size=(32, 32), mode="bilinear", align_corners=False), atol=1e-6)
    from cnn_tui.models.backbones.efficientnet_lite import SameConv2d

    with FieldTracker(x) as tracker:  # TF-style "same": F.pad, then an unpadded conv; unit 0 stays at px 0
        out = SameConv2d(1, 1, 3)(x)
    assert tracker.field(out).start == (0, 0)


def test_the_heat_comes_from_the_deepest_map_with_six_by_six_cells():
    """A 3 x 3 (2 x 2) map cannot place heat on a shape (each cell a third of the image), and a 4 x 4
    one little better: the last conv with 6 x 6 cells is taken, its ReLU's output."""
    import torch.nn as nn

    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 12 -> 6
                        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 6 -> 3
                        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    assert last_spatial_layer(net, torch.zeros(1, 3, 12, 12)) == "4"  # the 6 x 6 ReLU, not "7" (3 x 3)
    assert last_spatial_layer(net, torch.zeros(1, 3, 24, 24)) == "7"  # 6 x 6 at the end: the last conv's
    assert last_spatial_layer(net, torch.zeros(1, 3, 16, 16)) == "4"  # the 8 x 8 ReLU, not "7" (4 x 4)


def test_the_heat_of_an_inception_block_comes_from_all_its_branches():
    """An Inception (or DenseNet) block's map is `torch.cat` of its branches, which no module
    outputs: the map is the one the pool after the block is given, not the last branch's ReLU (a
    quarter of the channels: Inception's heat came from its pool branch alone)."""
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.one = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU())
            self.three = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.ReLU())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.pool(torch.cat([self.one(x), self.three(x)], 1)).flatten(1))

    net = Block()
    image = torch.randn(2, 3, 8, 8)
    assert last_spatial_layer(net, image) == "input of pool"
    with torch.no_grad():
        net.one[0].weight.zero_()  # the 1 x 1 branch sees nothing: the heat is the 3 x 3 branch's, placed
        net.one[0].bias.zero_()
    cams = grad_cam(net, image, "input of pool")
    assert cams.maps.shape == (2, 8, 8) and cams.layer == "input of pool" and float(cams.maps.amax()) > 0
    vgg_like = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 2))
    assert last_spatial_layer(vgg_like, image) == "1"  # a module made the map: its name, as before


SCRATCH = [
    ("alexnet_shapes", ["train.epochs=6"]),
    ("densenet_shapes", ["train.epochs=3"]),
    ("highway_shapes", ["train.epochs=3"]),
    ("inception_shapes", ["train.epochs=4"]),
    ("layers_shapes", ["train.epochs=4"]),
    ("resnet_shapes", ["train.epochs=6"]),  # 39% right after 3 epochs: too few to measure
    ("plain_shapes_deep", ["train.epochs=10"]),  # the plain twin learns slowly: the lesson
    ("my_net_shapes", ["train.epochs=3"]),  # arch: python, the user's own module
    ("torchvision_resnet18_shapes", ["train.epochs=4", "data.image_size=32"]),
    # LeNet-5 (60k weights, 6 and 16 channels) learns slowly: on all six shapes with scratch_cnn's
    # SGD it needs 8 epochs (70%; after 3 it is at 50% and its heat diffuse; see docs/views.md)
    ("scratch_cnn", ["model.arch=lenet5", "train.epochs=8"]),
    # a frozen ImageNet EfficientNet-Lite0 and a head trained on its cached features, 10 shapes a class:
    # every probe right after 4 epochs, heat from the 6 x 6 map (lift 1.65, near share 0.70)
    ("feature_extraction_shapes_fewshot", ["train.epochs=4"]),
]
# Where each case runs. `make test` (and CI's fast set): the transfer recipe (~20 s of CPU: its
# base does not train) beside scratch_cnn's test above. The slow set (`make check`, CI): the user's
# own `arch: python` module, 88 s of CPU. The rest of the sweep is an `experiment` (`make
# experiments`): minutes of CPU each; docs/views.md has the numbers of each.
FAST, SLOW = {"feature_extraction_shapes_fewshot"}, {"my_net_shapes"}


# The plain twin of resnet_shapes_deep (20 layers, no shortcuts) is the course's net that trains
# badly, and its heat shows it: near the shape (near share 0.55) but diffuse (lift 1.37 at 10
# epochs, 47 of 64 right); none of its maps reaches 1.5 (all of them measured: 0.16-1.50). Strict:
# should it pass, the measure or the net changed, and this line must go.
DIFFUSE = {"plain_shapes_deep": "a plain deep net's heat is diffuse (lift 1.37 < 1.5): the lesson, not a bug"}


def _marks(name: str) -> list:
    where = [] if name in FAST else [pytest.mark.slow] if name in SLOW else [pytest.mark.experiment]
    return where + ([pytest.mark.xfail(reason=DIFFUSE[name], strict=True)] if name in DIFFUSE else [])


def _sweep() -> list:
    return [pytest.param(name, overrides, id=f"{name}-{overrides[-1]}", marks=_marks(name))
            for name, overrides in SCRATCH]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("recipe_name,overrides", _sweep())
def test_gradcam_is_on_the_shape_for_every_shipped_architecture(tmp_path, recipe_name, overrides):
    classifier, recipe = _trained(tmp_path, recipe_name, "data.shapes.num_train=2000", "data.shapes.num_val=100",
                                  "train.early_stopping.enabled=false", *overrides)
    _check(classifier, recipe)
