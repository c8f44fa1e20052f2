"""Architectures as the slides draw them: ResNet's plain twin (He et al., 2015, Fig. 3), held to
torchvision's resnets less their projection shortcuts and to the paper's FLOPs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnn_tui.models.build import build_model
from cnn_tui.models.summary import layer_table
from cnn_tui.recipes.schema import Model
from tests.conftest import RECIPES

pytestmark = pytest.mark.timeout(180)

# 1x1 projections (conv + batch norm) where ResNet-18/34 change width: 64->128, 128->256, 256->512
PROJECTIONS_18 = sum(cin * cout + 2 * cout for cin, cout in ((64, 128), (128, 256), (256, 512)))


def params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("depth, residual", [(18, 11_689_512), (34, 21_797_672)])
def test_plain_nets_are_the_resnets_less_their_projections(depth, residual):
    import torchvision.models as tvm

    with torch.device("meta"):
        plain = build_model(Model(arch="resnet", depth=depth, shortcut="none", init="torch"), 3, 224, 1000)
        theirs = getattr(tvm, f"resnet{depth}")()
    assert PROJECTIONS_18 == 173_824
    assert params(plain) == residual - PROJECTIONS_18  # torchvision's card less three projections
    assert params(plain) == sum(p.numel() for name, p in theirs.named_parameters() if "downsample" not in name)
    assert not any("shortcut" in name for name, _ in plain.named_modules())
    gmacs = sum(r["macs"] for r in layer_table(plain, (3, 224, 224))) / 1e9
    if depth == 34:
        assert round(gmacs, 1) == 3.6  # Sec. 4.1: "the 34-layer plain net ... 3.6 billion FLOPs (multiply-adds)"


def test_a_plain_block_adds_nothing_back():
    """With its convs' output zeroed, a residual block passes x through (relu(0 + x)); the plain
    block gives zeros: no shortcut hides inside it."""
    from cnn_tui.models.resnet import BasicBlock

    x = torch.rand(2, 4, 6, 6)
    for shortcut, expect in (("identity", x), ("none", torch.zeros_like(x))):
        block = BasicBlock(4, 4, 1, batch_norm=False, act="relu", shortcut=shortcut).eval()
        with torch.no_grad():
            block.conv2.weight.zero_()
            block.conv2.bias.zero_()
            assert torch.equal(block(x), expect), shortcut


def test_the_shipped_pair_differs_only_in_the_shortcuts():
    from cnn_tui.recipes.loader import load_recipe

    plain, _ = load_recipe(RECIPES / "plain_shapes_deep.yaml")
    residual, _ = load_recipe(RECIPES / "resnet_shapes_deep.yaml")
    assert (plain.model.shortcut, residual.model.shortcut) == ("none", "identity")
    skip = {"name", "description"}
    assert plain.model_dump(exclude=skip | {"model"}) == residual.model_dump(exclude=skip | {"model"})
    assert plain.model.model_dump(exclude={"shortcut"}) == residual.model.model_dump(exclude={"shortcut"})
    assert sum(plain.model.blocks) * 2 + 2 == 38  # layers with weights: stem, 36 convs, classifier


@pytest.mark.timeout(120)
def test_a_plain_net_trains_an_epoch(tmp_path: Path):
    import yaml

    from cnn_tui.recipes.loader import load_recipe
    from tests.helpers import run_collect

    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "scratch", "name": "plain", "device": "cpu",
        "model": {"arch": "resnet", "shortcut": "none", "blocks": [1, 1], "width": 4},
        "data": {"dataset": "shapes", "image_size": 16, "shapes": {"num_train": 48, "num_val": 16}},
        "train": {"epochs": 1, "batch_size": 16}}))
    recipe, _ = load_recipe(path)
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed" and [e for e in events if e.type == "epoch"]
