"""GoogLeNet (Szegedy et al., 2014): Inception modules, four branches concatenated: a 1x1 conv,
a 1x1 reduction then 3x3, a 1x1 reduction then 5x5, a 3x3 max-pool then a 1x1 projection. The
reductions are what make it affordable (the course's point: 1x1 convs cut the 5x5's MACs by
an order of magnitude). The nine modules of the paper's Table 1, its stem (7x7/2, pool, 1x1,
3x3, pool), global average pooling, dropout 0.4 and one linear layer; no auxiliary classifiers.
`scale` multiplies every channel count; at 1 and 224 px this is the paper's net, which differs
from torchvision's googlenet only in the 5x5 branch (torchvision uses a 3x3 there).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation
from cnn_tui.models.stems import imagenet_stem, scaled

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; "M" a 3x3/2 max-pool
MODULES: list[tuple[str, tuple[int, ...]] | str] = [
    ("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64)), "M",
    ("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)), ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)), ("4e", (256, 160, 320, 32, 128, 128)), "M",
    ("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128)),
]


def conv(in_ch: int, out_ch: int, kernel: int, cfg, stride: int = 1) -> nn.Sequential:
    """conv -> batch norm (optional) -> activation, padded to keep the size."""
    layers: list[tuple[str, nn.Module]] = [
        ("conv", nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, bias=not cfg.batch_norm))]
    if cfg.batch_norm:
        layers.append(("bn", nn.BatchNorm2d(out_ch)))
    layers.append(("act", activation(cfg.activation)))
    return nn.Sequential(OrderedDict(layers))


class Inception(nn.Module):
    def __init__(self, in_ch: int, widths: tuple[int, ...], cfg) -> None:
        super().__init__()
        n1, r3, n3, r5, n5, proj = widths
        self.branch1 = conv(in_ch, n1, 1, cfg)
        self.branch3 = nn.Sequential(OrderedDict([("reduce", conv(in_ch, r3, 1, cfg)), ("conv", conv(r3, n3, 3, cfg))]))
        self.branch5 = nn.Sequential(OrderedDict([("reduce", conv(in_ch, r5, 1, cfg)), ("conv", conv(r5, n5, 5, cfg))]))
        self.branch_pool = nn.Sequential(OrderedDict([("pool", nn.MaxPool2d(3, stride=1, padding=1)),
                                                      ("proj", conv(in_ch, proj, 1, cfg))]))
        self.out_channels = n1 + n3 + n5 + proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


def inception(cfg, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    s = cfg.scale
    big = imagenet_stem(cfg, image_size)
    c64, c192 = scaled(64, s), scaled(192, s)
    if big:
        layers: list[tuple[str, nn.Module]] = [
            ("conv1", conv(in_channels, c64, 7, cfg, stride=2)), ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2", conv(c64, c64, 1, cfg)), ("conv3", conv(c64, c192, 3, cfg)),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True))]
    else:
        layers = [("conv1", conv(in_channels, c64, 3, cfg)), ("conv3", conv(c64, c192, 3, cfg))]
    channels, pools = c192, 0
    for item in MODULES:
        if isinstance(item, str):
            pools += 1
            layers.append((f"pool{pools + 2}", nn.MaxPool2d(3, 2, ceil_mode=True)))
            continue
        name, widths = item
        module = Inception(channels, tuple(scaled(w, s) for w in widths), cfg)
        layers.append((f"inception{name}", module))
        channels = module.out_channels
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
               ("drop", nn.Dropout(cfg.dropout or 0.4)), ("classifier", nn.Linear(channels, num_classes))]
    return nn.Sequential(OrderedDict(layers))
