"""The layer table against published numbers, not against its own output: torchvision's model
cards (parameters, and the operation counts it lists as GFLOPS, which are multiply-accumulates)
at 224 px, receptive fields from Araujo et al. (Distill, 2019) or derived by hand from the
paper's rule, and LeNet-5's MACs counted by hand."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.contract.layer_columns import format_macs, table_lines, totals_line
from cnn_tui.models.summary import count_params, layer_table

pytestmark = pytest.mark.timeout(120)

# name: (parameters, GMACs at 224 px), from each model's weights card in torchvision's docs
TORCHVISION_CARDS = {
    "alexnet": (61_100_840, 0.71),
    "vgg11": (132_863_336, 7.61),
    "vgg16": (138_357_544, 15.47),
    "vgg19": (143_667_240, 19.63),
    "resnet18": (11_689_512, 1.81),
    "resnet34": (21_797_672, 3.66),
    "resnet50": (25_557_032, 4.09),
    "resnet101": (44_549_160, 7.80),
    "resnet152": (60_192_808, 11.51),
    "googlenet": (6_624_904, 1.50),
    "densenet121": (7_978_856, 2.83),
    "mobilenet_v2": (3_504_872, 0.30),
}


def torchvision_table(name: str):
    import torchvision.models as tvm

    options = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    with torch.device("meta"):  # shapes and counts only: no memory, no time
        model = getattr(tvm, name)(**options)
    return layer_table(model, (3, 224, 224)), count_params(model)


@pytest.mark.parametrize("name", sorted(TORCHVISION_CARDS))
def test_parameters_and_macs_match_torchvisions_cards(name):
    rows, (total, trainable) = torchvision_table(name)
    params, gmacs = TORCHVISION_CARDS[name]
    assert total == trainable == params
    assert sum(r["params"] for r in rows) == params  # every parameter is in some row
    assert round(sum(r["macs"] for r in rows) / 1e9, 2) == pytest.approx(gmacs, abs=0.005)


@pytest.mark.parametrize("name, last_conv_block, rf", [
    ("alexnet", "features.12", 195),  # Araujo et al. 2019, table 1 (AlexNet): 195
    ("vgg16", "features.30", 212),  # Araujo et al. 2019, table 1 (VGG-16): 212
    # by hand: conv7/2 -> 7 (jump 2); maxpool3/2 -> 11 (4); layer1, four 3x3: 43; layer2: 3x3/2 51 (8),
    # three 3x3: 99; layer3: 115 (16), 211; layer4: 243 (32), 435
    ("resnet18", "layer4.1.bn2", 435),
])
def test_receptive_fields_match_the_published_ones(name, last_conv_block, rf):
    rows, _ = torchvision_table(name)
    (row,) = [r for r in rows if r["name"] == last_conv_block]
    assert row["rf"] == rf and row["jump"] == 32


def test_receptive_field_takes_the_widest_branch_of_a_residual_block():
    """ResNet's shortcut is a 1x1 conv (projection) or nothing: the block's output sees what its
    3x3 path sees, not the shortcut's smaller field."""
    rows, _ = torchvision_table("resnet18")
    by_name = {r["name"]: r for r in rows}
    assert by_name["layer2.0.downsample.0"]["rf"] == 43  # 1x1 stride 2 on layer1's output: 43
    assert by_name["layer2.0.bn2"]["rf"] == 67  # 51 + 2 * 8 after the second 3x3


def test_lenet5_macs_counted_by_hand():
    """LeNet-5 on 28 px MNIST (conv1 padded by 2): 28*28*6*25 + 10*10*16*150 + 400*120 + 120*84 + 84*10."""
    from cnn_tui.models.build import build_model
    from cnn_tui.recipes.schema import Model

    model = build_model(Model(arch="lenet5", batch_norm=False, activation="tanh"), 1, 28, 10)
    rows = layer_table(model, (1, 28, 28))
    assert sum(r["macs"] for r in rows) == 117_600 + 240_000 + 48_000 + 10_080 + 840
    convs = [r for r in rows if r["type"] == "Conv2d"]
    assert [(c["kernel"], c["stride"], c["padding"]) for c in convs] == [("5x5", "1", "2"), ("5x5", "1", "0")]
    assert convs[0]["rf"] == 5 and convs[1]["rf"] == 14  # 5; pool 2/2 -> 6 (jump 2); 6 + 4 * 2


def test_functional_ops_are_counted_too():
    """MACs of an op in a forward() of its own (no leaf module) are in the table, not lost."""

    class Gate(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.weight = torch.nn.Parameter(torch.ones(4, 4))

        def forward(self, x):
            y = self.conv(x).mean(dim=(2, 3))
            return torch.nn.functional.linear(y, self.weight)

    rows = layer_table(Gate(), (3, 8, 8))
    assert sum(r["macs"] for r in rows) == 8 * 8 * 4 * 27 + 16
    assert rows[-1]["name"] == "(outside layers)" and rows[-1]["macs"] == 16


@pytest.mark.parametrize("width", [40, 56, 80, 120, 200])
def test_the_table_fits_its_width_dropping_the_least_important_columns_first(width):
    rows, (total, trainable) = torchvision_table("resnet50")
    lines, _ = table_lines(rows, width)
    assert max(len(line) for line in lines) <= width
    header = lines[0].split()
    assert header[:1] == ["layer"] and "output" in header and "params" in header
    if width >= 80:
        assert "RF" in header and "MACs" in header  # what the course teaches stays at 80 columns
    if width < 200:
        assert "act" not in header or "k/s/p" in header  # memory goes before kernel/stride/padding
    assert "4.09 GMACs per image" in totals_line(rows, total, trainable)


def test_macs_read_as_papers_write_them():
    assert [format_macs(n) for n in (15_470_264_320, 118_013_952, 512)] == ["15.47 GMACs", "118.0 MMACs", "512 MACs"]
