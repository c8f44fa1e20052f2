"""The classic architectures as scratch builders, faithful at full size: VGG's configurations
A to E (Simonyan & Zisserman, Table 1) and He et al.'s ImageNet ResNets, checked against the
published parameter counts and torchvision's own networks parameter for parameter; small
versions of each train on the built-in data."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.models.build import build_model
from cnn_tui.models.summary import layer_table
from cnn_tui.recipes.schema import Model

pytestmark = pytest.mark.timeout(180)

# configuration: (torchvision's twin, its card's parameters, its card's GMACs, the paper's Table 2 in millions)
VGG = {"A": ("vgg11", 132_863_336, 7.61, 133), "B": ("vgg13", 133_047_848, 11.31, 133),
       "C": (None, None, None, 134), "D": ("vgg16", 138_357_544, 15.47, 138), "E": ("vgg19", 143_667_240, 19.63, 144)}
RESNET = {18: (11_689_512, 1.81), 34: (21_797_672, 3.66), 50: (25_557_032, 4.09), 101: (44_549_160, 7.80),
          152: (60_192_808, 11.51)}


def full_size(**fields) -> torch.nn.Module:
    with torch.device("meta"):
        return build_model(Model(init="torch", **fields), 3, 224, 1000)


def shapes_of(model: torch.nn.Module) -> list[tuple[int, ...]]:
    return [tuple(p.shape) for p in model.parameters()]


def torchvision_net(name: str) -> torch.nn.Module:
    import torchvision.models as tvm

    with torch.device("meta"):
        return getattr(tvm, name)()


@pytest.mark.parametrize("config", sorted(VGG))
def test_vgg_configurations_are_the_papers(config):
    twin, params, gmacs, paper_millions = VGG[config]
    model = full_size(arch="vgg", vgg_config=config, batch_norm=False, hidden=[4096, 4096], dropout=0.5)
    total = sum(p.numel() for p in model.parameters())
    assert round(total / 1e6) == paper_millions  # Table 2: 133, 133, 134, 138, 144 million
    if twin is None:  # C is B with a 1x1 conv closing stages 3, 4 and 5
        b = full_size(arch="vgg", vgg_config="B", batch_norm=False, hidden=[4096, 4096])
        one_by_ones = (256 * 256 + 256) + 2 * (512 * 512 + 512)
        assert total == sum(p.numel() for p in b.parameters()) + one_by_ones
        return
    assert total == params
    assert shapes_of(model) == shapes_of(torchvision_net(twin))  # layer for layer
    rows = layer_table(model, (3, 224, 224))
    assert round(sum(r["macs"] for r in rows) / 1e9, 2) == pytest.approx(gmacs, abs=0.005)


@pytest.mark.parametrize("depth", sorted(RESNET))
def test_resnet_depths_are_the_imagenet_nets(depth):
    params, gmacs = RESNET[depth]
    model = full_size(arch="resnet", depth=depth)
    assert sum(p.numel() for p in model.parameters()) == params
    assert sorted(shapes_of(model)) == sorted(shapes_of(torchvision_net(f"resnet{depth}")))
    rows = layer_table(model, (3, 224, 224))
    assert round(sum(r["macs"] for r in rows) / 1e9, 2) == pytest.approx(gmacs, abs=0.005)


@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_projection_shortcuts_on_every_block_or_only_where_shapes_change(block):
    def projections(shortcut: str) -> int:
        model = build_model(Model(arch="resnet", block=block, shortcut=shortcut, blocks=[2, 2], width=4), 3, 16, 3)
        return sum(1 for name, _ in model.named_modules() if name.endswith("shortcut.conv"))

    first_stage_projects = 1 if block == "bottleneck" else 0  # 4 -> 16 channels in the first block
    assert projections("identity") == first_stage_projects + 1  # option B: where the shape changes
    assert projections("projection") == 4  # option C: every block


def test_a_resnet_too_deep_for_the_images_says_the_size_it_takes():
    from cnn_tui.errors import RecipeError

    with pytest.raises(RecipeError, match=r"after the ImageNet stem halve 16 px images to nothing \(it takes 32 px"):
        build_model(Model(arch="resnet", depth=18), 3, 16, 3)


@pytest.mark.parametrize("fields", [
    {"arch": "vgg", "vgg_config": [8, "conv1-8", "M", 16, "M"], "hidden": [16, 16], "dropout": 0.2},
    {"arch": "resnet", "block": "bottleneck", "shortcut": "projection", "blocks": [1, 1], "width": 4},
    {"arch": "resnet", "depth": 18, "width": 4},
], ids=["vgg-with-1x1", "bottleneck-projection", "resnet18-layout"])
def test_small_versions_train(fields, tmp_path):
    import yaml

    from cnn_tui.recipes.loader import load_recipe
    from tests.helpers import run_collect

    recipe_path = tmp_path / "r.yaml"
    recipe_path.write_text(yaml.safe_dump({
        "kind": "scratch", "name": "classic", "device": "cpu", "model": fields,
        "data": {"dataset": "shapes", "image_size": 32, "shapes": {"num_train": 64, "num_val": 32}},
        "train": {"epochs": 2, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.003}}}))
    recipe, _ = load_recipe(recipe_path)
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"
    losses = [e.metrics["train/loss"] for e in events if e.type == "epoch"]
    assert len(losses) == 2 and all(loss == loss and loss < 20 for loss in losses)  # finite, not diverged
    (started,) = [e for e in events if e.type == "run_started"]
    if fields.get("depth"):
        assert started.total_params < 1_000_000  # width 4 thins the ResNet-18 layout
