"""VGG (Simonyan & Zisserman, 2014): stacks of small convs, 2x2 max-pools, a dense head.

`vgg_config` lists conv widths (3x3 convs), "convK-W" for a KxK conv of W channels (the
paper's notation: configuration C's conv1-256), "M" for a pool, e.g. [32, 32, M, 64, 64, M];
or a configuration of the paper's Table 1 by name, A to E. At 224 px with `hidden: [4096, 4096]`,
no batch norm and 1,000 classes, A, B, D and E are torchvision's vgg11/13/16/19 layer for layer
(132.9M, 133.0M, 138.4M, 143.7M parameters); A-LRN is A with AlexNet's local response
normalisation after its first conv (no parameters: 133M as in the paper's Table 2). Conv blocks
are conv -> batch norm (optional) -> activation; the head flattens the final feature map, then
the hidden layers (each dense -> activation -> dropout), then the classifier.
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from cnn_tui.models.parts import activation, local_response_norm
from cnn_tui.recipes.schema import Model

M, LRN = "M", "LRN"
CONFIGURATIONS: dict[str, list[int | str]] = {  # Table 1 of the paper; A-LRN is A with local response norm
    "A": [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "A-LRN": [64, LRN, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "B": [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "C": [64, 64, M, 128, 128, M, 256, 256, "conv1-256", M, 512, 512, "conv1-512", M, 512, 512, "conv1-512", M],
    "D": [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
    "E": [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
}


def conv_items(config: list[int | str] | str) -> list[tuple[int, int] | str]:
    """(kernel, width) per conv, "M" per pool, "LRN" per local response normalisation."""
    items = CONFIGURATIONS[config] if isinstance(config, str) else config
    out: list[tuple[int, int] | str] = []
    for item in items:
        if item in (M, LRN):
            out.append(str(item))
        elif isinstance(item, str):  # convK-W
            kernel, width = item[4:].split("-")
            out.append((int(kernel), int(width)))
        else:
            out.append((3, item))
    return out


def vgg(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    layers: list[tuple[str, nn.Module]] = []
    channels, side, block, conv = in_channels, image_size, 1, 1
    for item in conv_items(cfg.vgg_config):
        if item == LRN:  # A-LRN: after the first conv's activation, before the pool
            layers.append((f"lrn{block}_{conv - 1}", local_response_norm()))
            continue
        if isinstance(item, str):  # "M"
            if side < 2:
                raise ValueError(f"too many pools for {image_size} px images")
            layers.append((f"pool{block}", nn.MaxPool2d(2)))
            side //= 2
            block, conv = block + 1, 1
            continue
        kernel, width = item
        name = f"conv{block}_{conv}"
        layers.append((name, nn.Conv2d(channels, width, kernel, padding=kernel // 2, bias=not cfg.batch_norm)))
        if cfg.batch_norm:
            layers.append((f"bn{block}_{conv}", nn.BatchNorm2d(width)))
        layers.append((f"act{block}_{conv}", activation(cfg.activation)))
        channels, conv = width, conv + 1
    features = channels * side * side
    layers.append(("flatten", nn.Flatten()))
    hidden = cfg.hidden if isinstance(cfg.hidden, list) else [cfg.hidden] if cfg.hidden else []
    for i, width in enumerate(hidden, start=1):
        if cfg.dropout and len(hidden) == 1:  # one hidden layer: dropout before it, as before
            layers.append((f"drop{i}", nn.Dropout(cfg.dropout)))
        layers += [(f"fc{i}", nn.Linear(features, width)), (f"act_fc{i}", activation(cfg.activation))]
        if cfg.dropout and len(hidden) > 1:  # the paper's head: dropout after each hidden layer
            layers.append((f"drop_fc{i}", nn.Dropout(cfg.dropout)))
        features = width
    if cfg.dropout and len(hidden) < 2:
        layers.append(("drop", nn.Dropout(cfg.dropout)))
    layers.append(("classifier", nn.Linear(features, num_classes)))
    return nn.Sequential(OrderedDict(layers))
