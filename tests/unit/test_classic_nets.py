"""The classic architectures as scratch builders, faithful at full size: AlexNet, VGG's
configurations A to E (Simonyan & Zisserman, Table 1), GoogLeNet's Inception modules, He et al.'s
ImageNet ResNets, DenseNets and Highway networks, checked against the published parameter counts
and torchvision's own networks parameter for parameter; small versions of each train on the
built-in data."""

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


def test_alexnet_is_torchvisions():
    model = full_size(arch="alexnet")
    assert sum(p.numel() for p in model.parameters()) == 61_100_840
    assert shapes_of(model) == shapes_of(torchvision_net("alexnet"))
    assert round(sum(r["macs"] for r in layer_table(model, (3, 224, 224))) / 1e9, 2) == 0.71


@pytest.mark.parametrize("blocks, twin, params", [([6, 12, 24, 16], "densenet121", 7_978_856),
                                                  ([6, 12, 32, 32], "densenet169", 14_149_480),
                                                  ([6, 12, 48, 32], "densenet201", 20_013_928)])
def test_densenets_are_torchvisions(blocks, twin, params):
    model = full_size(arch="densenet", dense_blocks=blocks)
    assert sum(p.numel() for p in model.parameters()) == params
    assert sorted(shapes_of(model)) == sorted(shapes_of(torchvision_net(twin)))


def test_googlenet_is_the_papers_with_5x5_convs_where_torchvision_has_3x3():
    """torchvision's googlenet keeps a 3x3 in each module's "5x5" branch (for its weights): ours
    is the paper's, so it has 16 x reduce x out more weights per module than torchvision's."""
    import torchvision.models as tvm

    from cnn_tui.models.inception import MODULES

    model = full_size(arch="inception")
    with torch.device("meta"):
        theirs = sum(p.numel() for p in tvm.googlenet(aux_logits=False, init_weights=False).parameters())
    extra = sum((25 - 9) * w[3] * w[4] for m in MODULES if not isinstance(m, str) for _, w in [m])
    assert sum(p.numel() for p in model.parameters()) == theirs + extra == 7_005_832
    (module_3a,) = [m for name, m in model.named_modules() if name == "inception3a"]
    assert module_3a.out_channels == 256  # 64 + 128 + 32 + 32, Table 1
    rows = {r["name"]: r for r in layer_table(model, (3, 224, 224))}
    assert rows["inception3a.branch5.reduce.conv"]["macs"] == 28 * 28 * 192 * 16  # the 1x1 reduction
    assert rows["inception3a.branch5.conv.conv"]["macs"] == 28 * 28 * 16 * 25 * 32  # 5x5 on 16 channels


@pytest.mark.parametrize("bias, expect", [(-30.0, "carry"), (30.0, "transform")])
def test_highway_gates_carry_or_transform(bias, expect):
    from cnn_tui.models.highway import HighwayLayer

    layer = HighwayLayer(4, Model(arch="highway", batch_norm=False)).eval()
    with torch.no_grad():  # T(x) = sigmoid(bias) everywhere: 0 (carry x) or 1 (transform it)
        layer.gate.weight.zero_()
        layer.gate.bias.fill_(bias)
    x = torch.rand(2, 4, 8, 8)
    with torch.no_grad():
        target = x if expect == "carry" else layer.transform(x)
        assert torch.allclose(layer(x), target, atol=1e-6)


def test_highway_gates_start_as_the_recipe_says_after_initialisation():
    model = build_model(Model(arch="highway", blocks=[1, 1], gate_bias=-3.0), 3, 16, 2)
    gates = [m.gate.bias for m in model.modules() if hasattr(m, "gate")]
    assert len(gates) == 2 and all(torch.all(g == -3.0) for g in gates)


@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_projection_shortcuts_on_every_block_or_only_where_shapes_change(block):
    def projections(shortcut: str) -> int:
        model = build_model(Model(arch="resnet", block=block, shortcut=shortcut, blocks=[2, 2], width=4), 3, 16, 3)
        return sum(1 for name, _ in model.named_modules() if name.endswith("shortcut.conv"))

    first_stage_projects = 1 if block == "bottleneck" else 0  # 4 -> 16 channels in the first block
    assert projections("identity") == first_stage_projects + 1  # option B: where the shape changes
    assert projections("projection") == 4  # option C: every block


def test_a_resnet_too_deep_for_the_images_says_the_size_it_takes():
    from cnn_tui.contract.errors import RecipeError

    with pytest.raises(RecipeError, match=r"after the ImageNet stem halve 16 px images to nothing \(it takes 32 px"):
        build_model(Model(arch="resnet", depth=18), 3, 16, 3)


@pytest.mark.parametrize("fields", [
    {"arch": "vgg", "vgg_config": [8, "conv1-8", "M", 16, "M"], "hidden": [16, 16], "dropout": 0.2},
    {"arch": "resnet", "block": "bottleneck", "shortcut": "projection", "blocks": [1, 1], "width": 4},
    {"arch": "resnet", "depth": 18, "width": 4},
    {"arch": "alexnet", "scale": 0.125, "hidden": [32, 32]},
    {"arch": "inception", "scale": 0.125},
    {"arch": "densenet", "dense_blocks": [2, 2], "growth_rate": 4},
    {"arch": "highway", "blocks": [2, 2], "width": 8},
], ids=["vgg-with-1x1", "bottleneck-projection", "resnet18-layout", "alexnet", "inception", "densenet", "highway"])
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
