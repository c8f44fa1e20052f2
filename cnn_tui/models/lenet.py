"""LeNet-5 (LeCun et al., 1998): two conv/pool stages and three dense layers.

Inputs smaller than 32 px are zero-padded in the first conv so the classic geometry
holds (28 px MNIST -> 32 -> 28 -> 14 -> 10 -> 5, 16*5*5 = 400 features).
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from cnn_tui.models.parts import activation
from cnn_tui.recipes.schema import Model


def lenet5(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    pad = max(0, (32 - image_size) // 2)
    side = ((image_size + 2 * pad - 4) // 2 - 4) // 2
    if side < 1:
        raise ValueError(f"LeNet-5 needs images of at least 12 px (got {image_size})")
    act = cfg.activation
    layers: list[tuple[str, nn.Module]] = [
        ("conv1", nn.Conv2d(in_channels, 6, 5, padding=pad)),
    ]
    if cfg.batch_norm:
        layers.append(("bn1", nn.BatchNorm2d(6)))
    layers += [("act1", activation(act)), ("pool1", nn.AvgPool2d(2)), ("conv2", nn.Conv2d(6, 16, 5))]
    if cfg.batch_norm:
        layers.append(("bn2", nn.BatchNorm2d(16)))
    layers += [
        ("act2", activation(act)), ("pool2", nn.AvgPool2d(2)), ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(16 * side * side, 120)), ("act3", activation(act)),
    ]
    if cfg.dropout:
        layers.append(("drop1", nn.Dropout(cfg.dropout)))
    layers += [("fc2", nn.Linear(120, 84)), ("act4", activation(act))]
    if cfg.dropout:
        layers.append(("drop2", nn.Dropout(cfg.dropout)))
    layers.append(("fc3", nn.Linear(84, num_classes)))
    return nn.Sequential(OrderedDict(layers))
