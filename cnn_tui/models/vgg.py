"""VGG-style net (Simonyan & Zisserman, 2014): stacks of 3x3 convs, 2x2 max-pools, dense head.

`vgg_config` lists conv widths with "M" for a pool, e.g. [32, 32, M, 64, 64, M].
Conv blocks are conv -> batch norm (optional) -> activation; the head flattens the
final feature map, then optional hidden dense layer with dropout, then the classifier.
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from cnn_tui.models.parts import activation


def vgg(cfg, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    layers: list[tuple[str, nn.Module]] = []
    channels, side, block, conv = in_channels, image_size, 1, 1
    for item in cfg.vgg_config:
        if item == "M":
            if side < 2:
                raise ValueError(f"too many pools for {image_size} px images")
            layers.append((f"pool{block}", nn.MaxPool2d(2)))
            side //= 2
            block, conv = block + 1, 1
            continue
        name = f"conv{block}_{conv}"
        layers.append((name, nn.Conv2d(channels, item, 3, padding=1, bias=not cfg.batch_norm)))
        if cfg.batch_norm:
            layers.append((f"bn{block}_{conv}", nn.BatchNorm2d(item)))
        layers.append((f"act{block}_{conv}", activation(cfg.activation)))
        channels, conv = item, conv + 1
    features = channels * side * side
    layers.append(("flatten", nn.Flatten()))
    if cfg.hidden:
        if cfg.dropout:
            layers.append(("drop1", nn.Dropout(cfg.dropout)))
        layers += [("fc1", nn.Linear(features, cfg.hidden)), ("act_fc1", activation(cfg.activation))]
        features = cfg.hidden
    if cfg.dropout:
        layers.append(("drop", nn.Dropout(cfg.dropout)))
    layers.append(("classifier", nn.Linear(features, num_classes)))
    return nn.Sequential(OrderedDict(layers))
