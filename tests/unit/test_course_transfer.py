"""Heads and bases the course uses: `head.pool: avg | max | flatten` (Chollet's Flatten ->
Dense(256) head on VGG16 at 150 px), `backbone.until` (cut the base) and `backbone.reinit`
(layer transfer), held to the counts of Chollet's model summaries and hand arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from cnn_tui.models.backbones.registry import build_base
from cnn_tui.models.transfer import TransferNet
from cnn_tui.recipes.loader import load_recipe

pytestmark = pytest.mark.timeout(180)

VGG16_BASE = 14_714_688  # Chollet, Deep Learning with Python, 5.3.1: conv_base.summary(), VGG16 without top
BLOCK5 = 3 * (512 * 512 * 9 + 512)  # three 3x3 convs of 512 to 512


def transfer_recipe(tmp_path: Path, **sections):
    raw = {"kind": "feature_extraction", "name": "t", "device": "cpu", "mode": "end_to_end",
           "backbone": {"name": "vgg16", "weights": "none"}, "head": {"hidden": 256, "dropout": 0.5},
           "data": {"dataset": "shapes", "image_size": 150, "shapes": {"classes": ["circle", "square"]}}}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    raw = {k: v for k, v in raw.items() if v is not None}
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_recipe(path)[0]


def vgg16_net(recipe) -> TransferNet:
    with torch.device("meta"):
        return TransferNet.for_recipe(build_base("vgg16", "none"), 2, recipe)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_flatten_gives_chollets_8192_wide_head_at_150_px(tmp_path):
    """Listing 5.x: conv_base output (4, 4, 512); Flatten 8192; Dense(256): 2,097,408 parameters."""
    net = vgg16_net(transfer_recipe(tmp_path, head={"pool": "flatten"}))
    assert count(net.base) == VGG16_BASE
    assert count(net.head.fc1) == 4 * 4 * 512 * 256 + 256 == 2_097_408
    assert count(net) == VGG16_BASE + 2_097_408 + (256 * 2 + 2)
    average = vgg16_net(transfer_recipe(tmp_path))  # the default: 512 pooled features, as before
    assert count(average.head.fc1) == 512 * 256 + 256


def test_max_pooling_takes_each_maps_largest_value(tmp_path):
    net = TransferNet.for_recipe(build_base("resnet18", "none"), 2,
                                 transfer_recipe(tmp_path, head={"pool": "max"}, data={"image_size": 64}))
    x = torch.rand(2, 3, 64, 64)
    net.eval()
    with torch.no_grad():
        assert torch.equal(net.base(x), net.base.blocks(x).amax(dim=(2, 3)))


def test_until_cuts_the_base_after_that_block(tmp_path):
    net = vgg16_net(transfer_recipe(tmp_path, backbone={"until": "block4"}, head={"pool": "flatten"}))
    assert net.block_names == ["block1", "block2", "block3", "block4"]
    assert count(net.base) == VGG16_BASE - BLOCK5 == 7_635_264
    assert count(net.head.fc1) == 9 * 9 * 512 * 256 + 256  # 150 px halved four times: 9x9x512


def test_reinit_draws_fresh_weights_for_those_blocks_which_then_train(tmp_path):
    torch.manual_seed(0)
    base = build_base("resnet18", "none")
    before = {k: v.clone() for k, v in base.blocks.state_dict().items()}
    recipe = transfer_recipe(tmp_path, backbone={"name": "resnet18", "reinit": ["layer4"]}, data={"image_size": 32})
    net = TransferNet.for_recipe(base, 2, recipe)
    after = net.base.blocks.state_dict()
    changed = {k.split(".")[0] for k, v in after.items() if v.dtype.is_floating_point and not torch.equal(v, before[k])}
    assert changed == {"layer4"}
    assert all(p.requires_grad for p in net.base.blocks.layer4.parameters())  # set_trainable(0) keeps them training
    assert not any(p.requires_grad for p in net.base.blocks.layer3.parameters())
    net.train()
    norms = {name.split(".")[2]: m.training for name, m in net.named_modules()
             if isinstance(m, torch.nn.BatchNorm2d)}
    assert norms["layer4"] and not norms["layer3"]  # fresh batch norm learns its statistics


@pytest.mark.parametrize("sections, words", [
    ({"backbone": {"until": "block9"}},
     "backbone.until: 'block9' is not a block of vgg16; allowed: block1, block2, block3, block4, block5"),
    ({"backbone": {"until": "block3", "reinit": ["block5"]}},
     "backbone.reinit: 'block5' is not a block of vgg16 as cut; allowed: block1, block2, block3"),
    ({"backbone": {"reinit": ["block5"]}, "mode": "precompute"},
     "backbone.reinit: re-initialised blocks must train, and mode 'precompute' runs a frozen base once"),
    ({"head": {"pool": "mean"}}, "head.pool: 'mean' is not allowed; allowed: 'avg', 'max' or 'flatten'"),
])
def test_bad_heads_and_bases_are_one_line_exit_2(sections, words, tmp_path, capsys):
    from cnn_tui.cli import main

    raw = {"kind": "feature_extraction", "name": "t", "mode": "end_to_end",
           "backbone": {"name": "vgg16", "weights": "none"}, "data": {"dataset": "shapes", "image_size": 32}}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_features_cache_keys_tell_other_features_apart(tmp_path):
    from cnn_tui.models.features_cache import cache_key

    keys = {cache_key(transfer_recipe(tmp_path, mode="precompute", **extra), [10, 10])
            for extra in ({}, {"head": {"pool": "max"}}, {"head": {"pool": "flatten"}},
                          {"backbone": {"until": "block4"}})}
    assert len(keys) == 4


@pytest.mark.timeout(180)
def test_cut_reinitialised_flattened_transfer_trains_an_epoch(tmp_path):
    from tests.helpers import run_collect

    recipe = transfer_recipe(tmp_path, kind="fine_tuning", mode=None,
                             backbone={"name": "resnet18", "until": "layer2", "reinit": ["layer2"]},
                             head={"pool": "flatten", "hidden": 8},
                             data={"image_size": 32, "shapes": {"num_train": 32, "num_val": 16,
                                                                "classes": ["circle", "square"]}},
                             phases=[{"name": "head", "epochs": 1, "optimizer": {"name": "adam", "lr": 0.001}}],
                             train={"batch_size": 16})
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"
    (started,) = [e for e in events if e.type == "run_started"]
    assert started.total_params < 1_000_000  # stem, layer1, layer2 (a fresh one) and a 128x4x4 head
