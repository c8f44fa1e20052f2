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


# ------------------------------------------------------------------ GoogLeNet and Inception v2/v3

def googlenet(**fields) -> torch.nn.Module:
    with torch.device("meta"):
        return build_model(Model(arch="inception", init="torch", **fields), 3, 224, 1000)


def test_auxiliary_classifiers_are_torchvisions_and_appear_in_the_table():
    """Szegedy et al. (2014), Sec. 5: on 4a and 4d, a 5x5/3 average pool (4x4x512 for 4a), a 1x1
    conv of 128, a dense layer of 1024, dropout 0.7, a linear classifier. torchvision's googlenet
    builds the same heads: its aux_logits=True adds exactly the parameters ours do."""
    import torchvision.models as tvm

    with torch.device("meta"):
        theirs = (params(tvm.googlenet(aux_logits=True, init_weights=False))
                  - params(tvm.googlenet(aux_logits=False, init_weights=False)))
    by_hand = sum(c * 128 + 2 * 128 + (128 * 16 * 1024 + 1024) + (1024 * 1000 + 1000) for c in (512, 528))
    assert theirs == by_hand == 6_379_984
    with_aux, without = googlenet(aux_classifiers=True), googlenet()
    assert params(with_aux) - params(without) == by_hand
    rows = {r["name"]: r for r in layer_table(with_aux, (3, 224, 224))}
    assert rows["aux1.pool"]["shape"] == [512, 4, 4] and rows["aux2.pool"]["shape"] == [528, 4, 4]
    assert rows["aux1.classifier"]["shape"] == [1000] and rows["aux2.fc"]["params"] == 2048 * 1024 + 1024
    assert not with_aux.tabulating  # the table's pass leaves inference as it was


def test_auxiliary_losses_count_in_training_only_at_weight_0_3():
    from cnn_tui.models.inception import auxiliary_loss

    net = build_model(Model(arch="inception", scale=0.125, aux_classifiers=True), 3, 32, 4)
    x, y = torch.rand(2, 3, 32, 32), torch.tensor([0, 3])
    criterion = torch.nn.CrossEntropyLoss()
    net.eval()
    net(x)
    assert net.aux_logits == [] and auxiliary_loss(net, y, criterion) is None  # inference: no side heads
    net.train()
    torch.manual_seed(0)
    net(x)
    assert [tuple(out.shape) for out in net.aux_logits] == [(2, 4), (2, 4)]
    expect = 0.3 * (criterion(net.aux_logits[0], y) + criterion(net.aux_logits[1], y))
    assert torch.allclose(auxiliary_loss(net, y, criterion), expect)
    from cnn_tui.insight.feature_maps import conv_layers

    assert not any(name.startswith("aux") for name in conv_layers(net))  # feature maps: inference's layers


@pytest.mark.parametrize("factorize", ["none", "3x3", "asymmetric"])
def test_factorised_modules_keep_the_receptive_field_at_the_papers_cost(factorize):
    """Szegedy et al. (2015), Sec. 3: a 5x5 as two 3x3 sees the same 5x5 for 18/25 of the weights
    (C in, C out: "a 28% relative gain"); a 3x3 as a 1x3 then a 3x1 for 6/9 ("33% cheaper")."""
    from cnn_tui.models.inception import Inception

    cfg = Model(arch="inception", batch_norm=False, factorize=factorize)
    module = Inception(32, (8, 16, 16, 16, 16, 8), cfg)  # r = n: the paper's equal-width case
    weights = {name: p.numel() for name, p in module.named_parameters() if name.endswith("weight")}
    five = sum(n for name, n in weights.items() if name.startswith("branch5.conv"))
    three = sum(n for name, n in weights.items() if name.startswith("branch3.conv"))
    c = 16 * 16
    assert (five, three) == {"none": (25 * c, 9 * c), "3x3": (18 * c, 9 * c), "asymmetric": (12 * c, 6 * c)}[factorize]
    net = googlenet(factorize=factorize)
    rows = [r for r in layer_table(net, (3, 224, 224)) if r["name"].startswith("inception3a.branch5")]
    assert rows[-1]["rf"] == 59 and rows[-1]["shape"] == [32, 28, 28]  # the same field and output
    kernels = [r["kernel"] for r in rows if "kernel" in r]
    assert kernels == {"none": ["1x1", "5x5"], "3x3": ["1x1", "3x3", "3x3"],
                       "asymmetric": ["1x1", "1x3", "3x1", "1x3", "3x1"]}[factorize]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fields", [{"aux_classifiers": True}, {"factorize": "asymmetric"}])
def test_googlenet_options_train_an_epoch_with_the_side_losses_added(fields, tmp_path: Path, monkeypatch):
    import yaml

    import cnn_tui.train.trainer as trainer
    from cnn_tui.recipes.loader import load_recipe
    from tests.helpers import run_collect

    added: list = []
    first: dict = {}

    def spy(model, y, criterion):
        loss = real(model, y, criterion)
        added.append(loss)
        if loss is not None and not first:
            first["model"], first["weights"] = model, model.aux1.classifier.weight.detach().clone()
        return loss

    real = trainer.auxiliary_loss
    monkeypatch.setattr(trainer, "auxiliary_loss", spy)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "scratch", "name": "googlenet", "device": "cpu",
        "model": {"arch": "inception", "scale": 0.0625, **fields},
        "data": {"dataset": "shapes", "image_size": 16, "shapes": {"num_train": 32, "num_val": 16}},
        "train": {"epochs": 1, "batch_size": 16}}))
    recipe, _ = load_recipe(path)
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"
    (epoch,) = [e for e in events if e.type == "epoch"]
    assert epoch.metrics["train/loss"] == epoch.metrics["train/loss"]
    assert len(added) == 2  # one per training step, none in validation
    assert all((loss is not None) == bool(fields.get("aux_classifiers")) for loss in added)
    if first:  # the side heads learned: their loss was part of what was minimised
        assert not torch.equal(first["model"].aux1.classifier.weight, first["weights"])


# ------------------------------------------------------------------ validate --classes

VGG_C = "kind: scratch\nname: vgg_c\ndata: {dataset: shapes, image_size: 224}\n" \
        "model: {arch: vgg, vgg_config: C, hidden: [4096, 4096], batch_norm: false, dropout: 0.5}\n"


def test_validate_classes_sizes_the_classifier_as_the_paper_does(tmp_path: Path, capsys):
    """Simonyan & Zisserman, Table 2: configuration C has 134 million parameters at 1,000 classes
    (B's 133,047,848, torchvision's vgg13, plus 1x1 convs of 256x256 and twice 512x512)."""
    from cnn_tui.cli import main

    path = tmp_path / "vgg_c.yaml"
    path.write_text(VGG_C)
    assert main(["validate", str(path), "--classes", "1000"]) == 0
    out = capsys.readouterr().out
    expect = 133_047_848 + (256 * 256 + 256) + 2 * (512 * 512 + 512)
    assert f"total {expect:,} parameters" in out and round(expect / 1e6) == 134
    assert out.startswith(f"ok: {path} (scratch, vgg on shapes, sized for 1,000 classes")
    assert main(["validate", str(path)]) == 0  # without it: the data's 6 classes
    assert f"total {expect - 4096 * 994 - 994:,} parameters" in capsys.readouterr().out


@pytest.mark.parametrize("recipe, classes, words", [
    ("vgg_c", "0", "--classes: 0 is not allowed; allowed: a whole number >= 1"),
    ("style_transfer_random_net", "10", "--classes: a style_transfer recipe optimises an image and has no classifier"),
])
def test_validate_classes_refuses_what_it_cannot_size(recipe, classes, words, tmp_path: Path, capsys):
    from cnn_tui.cli import main

    path = tmp_path / "vgg_c.yaml"
    path.write_text(VGG_C)
    code = main(["validate", str(path) if recipe == "vgg_c" else recipe, "--classes", classes])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0]
