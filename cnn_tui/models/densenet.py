"""DenseNet (Huang et al., 2017): each layer of a dense block sees the concatenation of every
earlier layer's output in the block and adds `growth_rate` channels of its own (DenseNet-B:
batch norm, ReLU, a 1x1 bottleneck of 4 x growth, batch norm, ReLU, a 3x3); transitions
(batch norm, ReLU, a 1x1 keeping `compression` of the channels, a 2x2 average pool) join the
blocks (DenseNet-C). `dense_blocks: [6, 12, 24, 16]`, growth 32 and the ImageNet stem at 224 px
with 1,000 classes: torchvision's densenet121, 7,978,856 parameters ([6, 12, 32, 32]: 169,
[6, 12, 48, 32]: 201)."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation
from cnn_tui.models.stems import imagenet_stem
from cnn_tui.recipes.schema import Model

BOTTLENECK = 4  # x growth_rate channels out of each layer's 1x1


def _norm(cfg: Model, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if cfg.batch_norm else nn.Identity()


class DenseLayer(nn.Module):
    def __init__(self, in_ch: int, cfg: Model) -> None:
        super().__init__()
        k = cfg.growth_rate
        self.norm1, self.act1 = _norm(cfg, in_ch), activation(cfg.activation)
        self.conv1 = nn.Conv2d(in_ch, BOTTLENECK * k, 1, bias=False)
        self.norm2, self.act2 = _norm(cfg, BOTTLENECK * k), activation(cfg.activation)
        self.conv2 = nn.Conv2d(BOTTLENECK * k, k, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv2(self.act2(self.norm2(self.conv1(self.act1(self.norm1(x))))))
        return torch.cat([x, new], dim=1)  # the block's collective knowledge, one growth more


def _transition(in_ch: int, out_ch: int, cfg: Model) -> nn.Sequential:
    return nn.Sequential(OrderedDict([("norm", _norm(cfg, in_ch)), ("act", activation(cfg.activation)),
                                      ("conv", nn.Conv2d(in_ch, out_ch, 1, bias=False)),
                                      ("pool", nn.AvgPool2d(2, stride=2))]))


def densenet(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    channels = cfg.width or 2 * cfg.growth_rate
    if imagenet_stem(cfg, image_size):
        layers: list[tuple[str, nn.Module]] = [
            ("conv0", nn.Conv2d(in_channels, channels, 7, stride=2, padding=3, bias=False)),
            ("norm0", _norm(cfg, channels)), ("act0", activation(cfg.activation)),
            ("pool0", nn.MaxPool2d(3, stride=2, padding=1))]
    else:
        layers = [("conv0", nn.Conv2d(in_channels, channels, 3, padding=1, bias=False))]
    for b, count in enumerate(cfg.dense_blocks, start=1):
        block = []
        for _ in range(count):
            block.append(DenseLayer(channels, cfg))
            channels += cfg.growth_rate
        layers.append((f"block{b}", nn.Sequential(*block)))
        if b < len(cfg.dense_blocks):
            out = int(channels * cfg.compression)
            layers.append((f"transition{b}", _transition(channels, out, cfg)))
            channels = out
    layers += [("norm5", _norm(cfg, channels)), ("act5", activation(cfg.activation)),
               ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten())]
    if cfg.dropout:
        layers.append(("drop", nn.Dropout(cfg.dropout)))
    layers.append(("classifier", nn.Linear(channels, num_classes)))
    return nn.Sequential(OrderedDict(layers))
