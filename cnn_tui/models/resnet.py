"""ResNet (He et al., 2015): a stem, stages of residual blocks, global average pool, classifier.

Blocks (`block`): basic (two 3x3 convs) or bottleneck (1x1 reduce, 3x3, 1x1 expand to 4x
the width: the 50-layer and deeper nets). Shortcuts (`shortcut`): identity where the shapes
match and a 1x1 projection where they change (the paper's option B), a projection on every
block (option C), or none: the paper's "plain" twin (Fig. 3, middle), the same stacked layers
without the additions and without the projections' parameters, whose training error rises with
depth (the degradation problem, Fig. 4 left). Channels double and resolution halves each stage; a stage's first block
strides in its 3x3 conv (torchvision's placement, "ResNet v1.5").

Layouts: `depth: 18|34|50|101|152` is the paper's ImageNet net (Table 1: stages of
[2,2,2,2], [3,4,6,3], [3,4,6,3], [3,4,23,3], [3,8,36,3] blocks, width 64, a 7x7/2 stem and a
3x3/2 max-pool): at 224 px and 1,000 classes, torchvision's resnet18...152 to the parameter
(`width` makes a thinner one of the same layout).
Without `depth`, `blocks` and `width` as given on a 3x3 stem for small images.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation
from cnn_tui.recipes.schema import Model

LAYOUTS = {18: ("basic", [2, 2, 2, 2]), 34: ("basic", [3, 4, 6, 3]), 50: ("bottleneck", [3, 4, 6, 3]),
           101: ("bottleneck", [3, 4, 23, 3]), 152: ("bottleneck", [3, 8, 36, 3])}
EXPANSION = {"basic": 1, "bottleneck": 4}


def _norm(batch_norm: bool, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


def _shortcut(in_ch: int, out_ch: int, stride: int, batch_norm: bool, kind: str) -> nn.Module | None:
    """None: no shortcut at all (the plain twin); else identity or a 1x1 projection."""
    if kind == "none":
        return None
    if kind == "identity" and stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=not batch_norm)),
        ("bn", _norm(batch_norm, out_ch)),
    ]))


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, width: int, stride: int, batch_norm: bool, act: str,
                 shortcut: str = "identity") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = _norm(batch_norm, width)
        self.act1 = activation(act)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm)
        self.bn2 = _norm(batch_norm, width)
        self.shortcut = _shortcut(in_ch, width, stride, batch_norm, shortcut)
        self.act2 = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out if self.shortcut is None else out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 to `width`, 3x3 (strided), 1x1 to 4 x `width`: deep nets at the cost of shallow ones."""

    def __init__(self, in_ch: int, width: int, stride: int, batch_norm: bool, act: str,
                 shortcut: str = "identity") -> None:
        super().__init__()
        out_ch = width * EXPANSION["bottleneck"]
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=not batch_norm)
        self.bn1 = _norm(batch_norm, width)
        self.act1 = activation(act)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn2 = _norm(batch_norm, width)
        self.act2 = activation(act)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=not batch_norm)
        self.bn3 = _norm(batch_norm, out_ch)
        self.shortcut = _shortcut(in_ch, out_ch, stride, batch_norm, shortcut)
        self.act3 = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.act2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.act3(out if self.shortcut is None else out + self.shortcut(x))


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def _stem(cfg: Model, in_channels: int, width: int, imagenet: bool) -> list[tuple[str, nn.Module]]:
    conv = nn.Conv2d(in_channels, width, 7 if imagenet else 3, stride=2 if imagenet else 1,
                     padding=3 if imagenet else 1, bias=not cfg.batch_norm)
    layers = [("stem", conv), ("stem_bn", _norm(cfg.batch_norm, width)), ("stem_act", activation(cfg.activation))]
    if imagenet:
        layers.append(("stem_pool", nn.MaxPool2d(3, stride=2, padding=1)))
    return layers


def resnet(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    kind, blocks = LAYOUTS[cfg.depth] if cfg.depth else (cfg.block, cfg.blocks)
    width = cfg.width or (64 if cfg.depth else 16)  # the paper's 64; a narrower net where asked
    imagenet = cfg.stem == "imagenet" or (cfg.stem == "auto" and cfg.depth is not None)
    halvings = len(blocks) - 1 + (2 if imagenet else 0)
    if image_size >> halvings < 1:
        raise ValueError(f"{len(blocks)} stages{' after the ImageNet stem' if imagenet else ''} halve "
                         f"{image_size} px images to nothing (it takes {1 << halvings} px or more)")
    layers = _stem(cfg, in_channels, width, imagenet)
    block_class, channels = BLOCKS[kind], width
    for stage, count in enumerate(blocks, start=1):
        stage_width = width * 2 ** (stage - 1)
        units = []
        for i in range(count):
            stride = 2 if (i == 0 and stage > 1) else 1
            units.append(block_class(channels, stage_width, stride, cfg.batch_norm, cfg.activation,
                                     cfg.shortcut))
            channels = stage_width * EXPANSION[kind]
        layers.append((f"stage{stage}", nn.Sequential(*units)))
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten())]
    if cfg.dropout:
        layers.append(("drop", nn.Dropout(cfg.dropout)))
    layers.append(("classifier", nn.Linear(channels, num_classes)))
    return nn.Sequential(OrderedDict(layers))
