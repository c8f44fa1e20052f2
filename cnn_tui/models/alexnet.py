"""AlexNet (Krizhevsky et al., 2012) in its one-GPU form, as torchvision builds it: five convs
(11x11/4, 5x5, 3x3 x3) with three 3x3/2 max-pools, a 6x6 average pool and two dense layers of
4,096 with dropout. At 224 px with `scale: 1` and 1,000 classes: torchvision's alexnet, 61.1M
parameters. `lrn: true` adds the paper's local response normalisation after conv1's and conv2's
ReLUs (torchvision, like later practice, drops it; it has no parameters). `scale` multiplies
every conv's channels; `hidden` sets the dense layers (default the paper's [4096, 4096]); the
small stem (3x3/1) keeps 32 px images alive through the pools."""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from cnn_tui.models.parts import activation, local_response_norm
from cnn_tui.models.stems import imagenet_stem, scaled
from cnn_tui.recipes.schema import Model

CHANNELS = (64, 192, 384, 256, 256)


def alexnet(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    c = [scaled(n, cfg.scale) for n in CHANNELS]
    big = imagenet_stem(cfg, image_size)
    conv1 = nn.Conv2d(in_channels, c[0], 11, stride=4, padding=2) if big else nn.Conv2d(in_channels, c[0], 3,
                                                                                          padding=1)
    def lrn(n: int) -> list[tuple[str, nn.Module]]:  # the paper's, after the first two convs' ReLUs
        return [(f"lrn{n}", local_response_norm())] if cfg.lrn else []

    layers: list[tuple[str, nn.Module]] = [
        ("conv1", conv1), ("act1", activation(cfg.activation)), *lrn(1), ("pool1", nn.MaxPool2d(3, stride=2)),
        ("conv2", nn.Conv2d(c[0], c[1], 5, padding=2)), ("act2", activation(cfg.activation)), *lrn(2),
        ("pool2", nn.MaxPool2d(3, stride=2)),
        ("conv3", nn.Conv2d(c[1], c[2], 3, padding=1)), ("act3", activation(cfg.activation)),
        ("conv4", nn.Conv2d(c[2], c[3], 3, padding=1)), ("act4", activation(cfg.activation)),
        ("conv5", nn.Conv2d(c[3], c[4], 3, padding=1)), ("act5", activation(cfg.activation)),
        ("pool5", nn.MaxPool2d(3, stride=2)),
        ("avgpool", nn.AdaptiveAvgPool2d(6 if big else 1)), ("flatten", nn.Flatten()),
    ]
    features = c[4] * (36 if big else 1)
    hidden = cfg.hidden if isinstance(cfg.hidden, list) else [cfg.hidden] if cfg.hidden else [4096, 4096]
    for i, width in enumerate(hidden, start=6):
        layers += [(f"drop{i}", nn.Dropout(cfg.dropout or 0.5)), (f"fc{i}", nn.Linear(features, width)),
                   (f"act{i}", activation(cfg.activation))]
        features = width
    layers.append(("classifier", nn.Linear(features, num_classes)))
    return nn.Sequential(OrderedDict(layers))
