"""Every builder's output shape and parameter count against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.build import build_model
from cnn_tui.models.summary import count_params, layer_table
from cnn_tui.recipes.schema import Model


def make(arch: str, **fields) -> Model:
    return Model(arch=arch, **fields)


def check(cfg: Model, channels: int, size: int, classes: int, params: int) -> torch.nn.Module:
    model = build_model(cfg, channels, size, classes)
    assert model(torch.zeros(2, channels, size, size)).shape == (2, classes)
    assert count_params(model) == (params, params)
    return model


def test_lenet5_on_mnist_is_the_classic_61706():
    # conv1 1*6*25+6=156, conv2 6*16*25+16=2416, fc1 400*120+120=48120,
    # fc2 120*84+84=10164, fc3 84*10+10=850
    model = check(make("lenet5", batch_norm=False, activation="tanh"), 1, 28, 10, 61_706)
    shapes = {r["name"]: r["shape"] for r in layer_table(model, (1, 28, 28))}
    assert shapes["conv1"] == [6, 28, 28] and shapes["pool2"] == [16, 5, 5] and shapes["fc1"] == [120]


def test_vgg_with_batch_norm():
    # conv1_1 3*4*9=108 (no bias with BN), bn 8, conv2_1 4*8*9=288, bn 16, classifier 8*4*4*3+3=387
    model = check(make("vgg", vgg_config=[4, "M", 8, "M"]), 3, 16, 3, 807)
    assert [r["name"] for r in layer_table(model, (3, 16, 16))][:3] == ["conv1_1", "bn1_1", "act1_1"]


def test_vgg_without_batch_norm_with_hidden_layer_and_dropout():
    # conv1_1 108+4=112, conv2_1 288+8=296, fc1 128*10+10=1290, classifier 10*3+3=33
    model = check(make("vgg", vgg_config=[4, "M", 8, "M"], batch_norm=False, hidden=10, dropout=0.5),
                  3, 16, 3, 1731)
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.modules()) == 2
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_resnet_with_projection_shortcut():
    # stem 108 + bn 8; stage1 block 144+8+144+8=304;
    # stage2 block 288+16+576+16 + shortcut 32+16 = 944; classifier 8*2+2=18
    model = check(make("resnet", width=4, blocks=[1, 1]), 3, 8, 2, 1382)
    shapes = {r["name"]: r["shape"] for r in layer_table(model, (3, 8, 8))}
    assert shapes["stage2.0.conv1"] == [8, 4, 4] and shapes["stage2.0.shortcut.conv"] == [8, 4, 4]


def test_resnet_residual_adds_the_shortcut():
    model = build_model(make("resnet", width=4, blocks=[1], batch_norm=False), 3, 8, 2)
    block = model.stage1[0]
    torch.nn.init.zeros_(block.conv2.weight)
    torch.nn.init.zeros_(block.conv2.bias)
    x = torch.rand(1, 4, 8, 8)
    assert torch.allclose(block(x), torch.relu(x))  # the residual branch is zero: identity


def test_declarative_layers_infer_sizes():
    # conv 1*6*9+6=60, conv2 6*4*9+4=220, fc1 64*5+5=325, classifier 5*3+3=18
    cfg = make("layers", layers=[{"conv": 6}, {"act": "relu"}, {"pool": "max"},
                                 {"conv": {"out": 4, "padding": 0}}, {"batchnorm": True},
                                 {"linear": 5}, {"dropout": 0.3}])
    model = build_model(cfg, 1, 12, 3)
    rows = {r["name"]: r for r in layer_table(model, (1, 12, 12))}
    assert rows["conv1"]["shape"] == [6, 12, 12] and rows["pool1"]["shape"] == [6, 6, 6]
    assert rows["conv2"]["shape"] == [4, 4, 4] and rows["flatten1"]["shape"] == [64]
    assert rows["classifier"]["shape"] == [3]
    assert count_params(model)[0] == 60 + 220 + 8 + 325 + 18  # + bn 4*2


def test_image_too_small_for_the_net_is_a_recipe_error():
    with pytest.raises(RecipeError, match=r"model.arch: cannot build 'vgg' for 4 px images"):
        build_model(make("vgg", vgg_config=[4, "M", 4, "M", 4, "M"]), 3, 4, 2)
    with pytest.raises(RecipeError, match="shrinks 6 px images to nothing"):
        build_model(make("layers", layers=[{"conv": {"out": 4, "kernel": 7, "padding": 0}}]), 3, 6, 2)


@pytest.mark.parametrize("scheme", ["kaiming", "xavier"])
def test_init_draws_each_schemes_distribution(scheme):
    """He normal (fan_out) vs Glorot uniform for convs, He vs Glorot uniform bounds for linears:
    the weights' spread and shape tell which init ran (and biases are zero, batch norms identity)."""
    torch.manual_seed(0)
    model = build_model(make("vgg", vgg_config=[8, "M", 64, "M"], hidden=256, init=scheme), 3, 16, 2)
    conv = model.conv2_1.weight.detach().flatten()  # 8 -> 64 channels, 3x3: fan_in 72, fan_out 576
    fc = model.fc1.weight.detach().flatten()  # 1024 -> 256
    kurtosis = float(((conv - conv.mean()) ** 4).mean() / conv.var(unbiased=False) ** 2)
    if scheme == "kaiming":
        assert float(conv.std()) == pytest.approx((2 / 576) ** 0.5, rel=0.05)
        assert kurtosis == pytest.approx(3.0, abs=0.4)  # a normal distribution
        assert float(fc.abs().max()) == pytest.approx((6 / 1024) ** 0.5, rel=0.02)  # He uniform's bound
    else:
        bound = (6 / (72 + 576)) ** 0.5
        assert float(conv.abs().max()) <= bound and float(conv.std()) == pytest.approx(bound / 3**0.5, rel=0.05)
        assert kurtosis == pytest.approx(1.8, abs=0.2)  # a uniform one
        assert float(fc.abs().max()) == pytest.approx((6 / (1024 + 256)) ** 0.5, rel=0.02)
    assert torch.count_nonzero(model.fc1.bias) == 0
    assert torch.all(model.bn1_1.weight == 1) and torch.count_nonzero(model.bn1_1.bias) == 0
