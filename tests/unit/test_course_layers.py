"""The refresher's layers in `layers:` (dilation, groups, layer/instance/group norm, LRN,
transposed convolution) and LRN in AlexNet and VGG A-LRN, held to published figures and hand
arithmetic: Yu & Koltun's dilated receptive fields, MobileNet's 4.2M parameters and 569M
mult-adds, Krizhevsky et al.'s LRN formula, Wu & He's normalisation axes, Dumoulin & Visin's
transposed-convolution output size, VGG's Table 2."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.build import build_model
from cnn_tui.models.summary import layer_table
from cnn_tui.recipes.schema import Model

pytestmark = pytest.mark.timeout(120)


def layers_net(layers: list, size: int = 16, channels: int = 3, classes: int = 3) -> torch.nn.Module:
    return build_model(Model(arch="layers", init="torch", layers=layers), channels, size, classes)


def rows_of(net: torch.nn.Module, shape: tuple[int, ...]) -> dict[str, dict]:
    return {r["name"]: r for r in layer_table(net, shape)}


def test_dilated_convs_grow_the_receptive_field_as_yu_and_koltun_count():
    """Yu & Koltun (2016), Sec. 2: 3x3 convs dilated 1, 2, 4 see 3x3, 7x7, 15x15 (then 31x31 at 8):
    r grows by (k - 1) x dilation x jump. Same weights and MACs as undilated 3x3s."""
    net = layers_net([{"conv": {"out": 4, "dilation": d}} for d in (1, 2, 4, 8)], size=40)
    rows = rows_of(net, (3, 40, 40))
    assert [rows[f"conv{i}"]["rf"] for i in (1, 2, 3, 4)] == [3, 7, 15, 31]
    assert rows["conv2"]["kernel"] == "3x3 d2" and rows["conv2"]["shape"] == [4, 40, 40]  # 'same' padding
    assert rows["conv3"]["params"] == 4 * 4 * 9 + 4 and rows["conv3"]["macs"] == 40 * 40 * 4 * 4 * 9
    strided = rows_of(layers_net([{"pool": "max"}, {"conv": {"out": 4, "dilation": 2}}]), (3, 16, 16))
    assert strided["conv1"]["rf"] == 2 + (3 - 1) * 2 * 2  # after a 2/2 pool the jump is 2: 10


def mobilenet_v1() -> list[dict]:
    """Howard et al. (2017), Table 1: a 3x3/2 conv, then 13 depthwise separable convs."""
    def bn_relu() -> list[dict]:
        return [{"batchnorm": True}, {"act": "relu"}]

    layers, channels = [{"conv": {"out": 32, "stride": 2, "padding": 1}}, *bn_relu()], 32
    for out, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
                        (1024, 2), (1024, 1)]:
        layers += [{"conv": {"out": channels, "stride": stride, "padding": 1, "groups": channels}}, *bn_relu(),
                   {"conv": {"out": out, "kernel": 1}}, *bn_relu()]
        channels = out
    return [*layers, {"global_pool": "avg"}]


@pytest.mark.timeout(180)
def test_depthwise_separable_convs_give_mobilenets_published_counts():
    """groups = channels is a depthwise conv; with a 1x1 after it, MobileNet v1 (Table 8 of the
    paper: 4.2 million parameters, 569 million mult-adds at 224 px, 1,000 classes)."""
    with torch.device("meta"):
        net = layers_net(mobilenet_v1(), size=224, classes=1000)
    weights = sum(p.numel() for p in net.parameters() if p.dim() > 1)  # conv kernels and the classifier's
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == 4.2
    assert weights + 1000 + 21_888 == 4_231_976  # + classifier bias + BN scales/shifts: Keras's MobileNet
    rows = rows_of(net, (3, 224, 224))
    assert round(sum(r["macs"] for r in rows.values()) / 1e6) == 569
    depthwise = rows["conv2"]  # 3x3 on 32 channels of 112x112: D_K^2 M D_F^2 (Sec. 3.1)
    assert depthwise["params"] == 3 * 3 * 32 + 32 and depthwise["macs"] == 3 * 3 * 32 * 112 * 112
    torch_own = torch.nn.Conv2d(32, 32, 3, groups=32)
    assert depthwise["params"] == sum(p.numel() for p in torch_own.parameters())


def test_normalisations_normalise_over_wu_and_hes_axes():
    """Group Normalization (2018), Fig. 2: LN over (C, H, W), IN over (H, W), GN over (H, W) of
    groups of channels; each with a scale and shift per channel (2 C parameters)."""
    x = torch.randn(2, 8, 5, 5) * 3 + 1

    def normalised(v: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
        mean = v.mean(dim=dims, keepdim=True)
        var = v.var(dim=dims, keepdim=True, unbiased=False)
        return (v - mean) / torch.sqrt(var + 1e-5)

    grouped = normalised(x.view(2, 4, 2, 5, 5), (2, 3, 4)).view_as(x)
    for spec, expect in (({"layernorm": True}, normalised(x, (1, 2, 3))),
                         ({"instancenorm": True}, normalised(x, (2, 3))), ({"groupnorm": 4}, grouped)):
        net = layers_net([spec], size=5, channels=8)
        norm = net[0].eval()
        assert sum(p.numel() for p in norm.parameters()) == 2 * 8, spec
        assert torch.allclose(norm(x), expect, atol=1e-4), spec
    flat = layers_net([{"flatten": True}, {"layernorm": True}], size=2, channels=2)
    assert isinstance(flat[1], torch.nn.LayerNorm) and flat[1].normalized_shape == (8,)


def test_lrn_is_krizhevskys_formula_with_the_papers_constants():
    """Sec. 3.3: b_i = a_i / (k + alpha sum_j a_j^2)^beta over the n = 5 channels around i, with
    k = 2, alpha = 1e-4, beta = 0.75 (alpha raised here so the effect is visible)."""
    net = layers_net([{"lrn": {"alpha": 0.01}}], size=3, channels=7)
    x = torch.randn(1, 7, 3, 3) * 4
    expect = torch.empty_like(x)
    for i in range(7):
        window = x[:, max(0, i - 2):min(7, i + 3)]
        expect[:, i] = x[:, i] / (2.0 + 0.01 * window.square().sum(dim=1)) ** 0.75
    assert torch.allclose(net[0](x), expect, atol=1e-5)
    default = layers_net([{"lrn": True}], size=3)[0]
    assert (default.size, default.alpha, default.beta, default.k) == (5, pytest.approx(5e-4), 0.75, 2.0)


def test_alexnet_and_vgg_a_lrn_have_the_papers_lrn_and_counts():
    with torch.device("meta"):
        alexnet = build_model(Model(arch="alexnet", init="torch", lrn=True), 3, 224, 1000)
        a_lrn = build_model(Model(arch="vgg", init="torch", vgg_config="A-LRN", batch_norm=False,
                                  hidden=[4096, 4096], dropout=0.5), 3, 224, 1000)
    names = [name for name, _ in alexnet.named_children()]
    assert names[:5] == ["conv1", "act1", "lrn1", "pool1", "conv2"] and names[6:8] == ["lrn2", "pool2"]
    assert sum(p.numel() for p in alexnet.parameters()) == 61_100_840  # torchvision's alexnet: LRN adds none
    names = [name for name, _ in a_lrn.named_children()]
    assert names[:4] == ["conv1_1", "act1_1", "lrn1_1", "pool1"]  # Table 1: conv3-64, LRN, maxpool
    total = sum(p.numel() for p in a_lrn.parameters())
    assert total == 132_863_336 and round(total / 1e6) == 133  # vgg11's card; Table 2: A and A-LRN 133M
    rows = rows_of(a_lrn, (3, 224, 224))
    assert rows["lrn1_1"]["type"] == "LocalResponseNorm" and rows["lrn1_1"]["shape"] == [64, 224, 224]


def test_transposed_conv_follows_the_convolution_arithmetic():
    """Dumoulin & Visin (2016), relationship 14: o = s (i - 1) + a + k - 2p. Each input pixel
    scatters k x k x C_out products per input channel: MACs = i^2 C_in C_out k^2; the outputs sit
    half a pixel apart (jump 0.5) and each sums floor((k - 1) / s) + 1 neighbouring inputs."""
    net = layers_net([{"conv": 6}, {"pool": "max"},
                      {"conv_transpose": {"out": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}},
                      {"conv_transpose": 2}])
    rows = rows_of(net, (3, 16, 16))
    up = rows["deconv1"]
    assert up["shape"] == [4, 2 * (8 - 1) + 1 + 3 - 2, 16] and up["kernel"] == "3x3"
    assert up["params"] == 6 * 4 * 9 + 4 == sum(p.numel() for p in torch.nn.ConvTranspose2d(6, 4, 3).parameters())
    assert up["macs"] == 8 * 8 * 6 * 4 * 9
    assert (rows["pool1"]["rf"], rows["pool1"]["jump"]) == (4, 2)
    assert (up["rf"], up["jump"]) == (4 + 1 * 2, 1)
    second = rows["deconv2"]  # default 2x2 stride 2: each output from one input pixel
    assert second["shape"] == [2, 32, 32] and (second["rf"], second["jump"]) == (6, 0.5)


@pytest.mark.parametrize("layers, words", [
    ([{"conv": 6}, {"conv": {"out": 8, "groups": 4}}],
     "model.layers[1].conv.groups: 4 does not divide the 6 input channels; allowed: a divisor of 6"),
    ([{"conv": 6}, {"groupnorm": 4}], "model.layers[1].groupnorm: 4 does not divide the 6 input channels"),
    ([{"flatten": True}, {"lrn": True}], "model.layers[1].lrn: needs feature maps, but the layers before it give"),
])
def test_layers_that_cannot_take_their_input_are_one_recipe_error(layers, words):
    with pytest.raises(RecipeError) as info:
        layers_net(layers)
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("spec, words", [
    ({"conv": {"out": 8, "groups": 3}}, "conv groups must divide out (8 channels); got groups 3"),
    ({"conv": {"out": 8, "stride": 2}}, "conv padding 'same' needs stride 1 (got stride 2)"),
    ({"conv": {"out": 8, "dilation": 0}}, "conv dilation must be a whole number >= 1 (got 0)"),
    ({"conv_transpose": {"out": 8, "stride": 2, "output_padding": 2}}, "output_padding must be smaller than stride"),
    ({"lrn": {"size": 5, "alfa": 1}}, "unknown key 'alfa' (did you mean 'alpha'?)"),
    ({"groupnorm": 0}, "greater than or equal to 1"),
])
def test_bad_layer_values_name_the_field_and_what_is_allowed(spec, words, tmp_path):
    import yaml

    from tests.unit.test_recipe_errors import error_of

    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"model": {"arch": "layers", "layers": [{"conv": 8}, spec]}}))
    message = error_of(path)
    assert "model.layers[1]" in message and words in message, message


def test_a_groups_error_is_one_line_and_exit_2_from_the_cli(tmp_path, capsys):
    import yaml

    from cnn_tui.cli import main

    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"model": {"arch": "layers", "layers": [{"conv": {"out": 9, "groups": 9}}]}}))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"cnn-tui: error: {path}: model.layers[0].conv.groups: 9 does not")


@pytest.mark.timeout(120)
def test_every_new_layer_trains_an_epoch(tmp_path):
    import yaml

    from cnn_tui.recipes.loader import load_recipe
    from tests.helpers import run_collect

    layers = [{"conv": {"out": 8, "dilation": 2}}, {"groupnorm": 2}, {"act": "relu"}, {"lrn": True},
              {"conv": {"out": 8, "groups": 8}}, {"conv": {"out": 12, "kernel": 1}}, {"layernorm": True},
              {"pool": "max"}, {"instancenorm": True}, {"conv_transpose": 6}, {"global_pool": "avg"},
              {"linear": 8}, {"layernorm": True}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "scratch", "name": "refresher", "device": "cpu", "model": {"arch": "layers", "layers": layers},
        "data": {"dataset": "shapes", "image_size": 16, "shapes": {"num_train": 48, "num_val": 16}},
        "train": {"epochs": 1, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.003}}}))
    recipe, _ = load_recipe(path)
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed"
    (epoch,) = [e for e in events if e.type == "epoch"]
    assert epoch.metrics["train/loss"] == epoch.metrics["train/loss"]  # finite
