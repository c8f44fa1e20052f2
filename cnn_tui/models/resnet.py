"""ResNet-style net (He et al., 2015) for small images: a 3x3 stem, stages of basic
residual blocks (two 3x3 convs with batch norm, identity or 1x1 projection shortcut),
channels doubling and resolution halving per stage, global average pool, classifier.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, batch_norm: bool, act: str) -> None:
        super().__init__()
        norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = norm(out_ch)
        self.act1 = activation(act)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=not batch_norm)
        self.bn2 = norm(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(OrderedDict([
                ("conv", nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=not batch_norm)),
                ("bn", norm(out_ch)),
            ]))
        self.act2 = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + self.shortcut(x))


def resnet(cfg, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    if image_size >> (len(cfg.blocks) - 1) < 1:
        raise ValueError(f"{len(cfg.blocks)} stages halve {image_size} px images to nothing")
    norm = nn.BatchNorm2d(cfg.width) if cfg.batch_norm else nn.Identity()
    layers: list[tuple[str, nn.Module]] = [
        ("stem", nn.Conv2d(in_channels, cfg.width, 3, padding=1, bias=not cfg.batch_norm)),
        ("stem_bn", norm),
        ("stem_act", activation(cfg.activation)),
    ]
    channels = cfg.width
    for stage, count in enumerate(cfg.blocks, start=1):
        out = cfg.width * 2 ** (stage - 1)
        blocks = [
            BasicBlock(channels if i == 0 else out, out, 2 if (i == 0 and stage > 1) else 1,
                       cfg.batch_norm, cfg.activation)
            for i in range(count)
        ]
        layers.append((f"stage{stage}", nn.Sequential(*blocks)))
        channels = out
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten())]
    if cfg.dropout:
        layers.append(("drop", nn.Dropout(cfg.dropout)))
    layers.append(("classifier", nn.Linear(channels, num_classes)))
    return nn.Sequential(OrderedDict(layers))
