"""Build a net from a declarative layer list in the recipe, inferring every input size.

    layers:
      - conv: 32              # 3x3, stride 1, 'same' padding
      - batchnorm: true
      - act: relu
      - pool: max             # 2x2
      - conv: {out: 64, kernel: 5, padding: 0}
      - dropout: 0.25
      - flatten: true
      - linear: 128
      - act: relu
A final classifier (a linear layer to the number of classes) is appended for you, with
a flatten before it when the last layer still produces feature maps.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation


def from_layers(cfg, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    shape: tuple[int, ...] = (in_channels, image_size, image_size)
    modules: list[tuple[str, nn.Module]] = []
    counts: dict[str, int] = {}

    def add(kind: str, module: nn.Module) -> None:
        nonlocal shape
        counts[kind] = counts.get(kind, 0) + 1
        modules.append((f"{kind}{counts[kind]}", module))
        try:
            with torch.no_grad():
                shape = tuple(module.eval()(torch.zeros(1, *shape)).shape[1:])
        except RuntimeError:
            shape = (0,)
        if any(d < 1 for d in shape):
            raise ValueError(f"layer {len(modules)} ({kind}) shrinks {image_size} px images to nothing")

    for index, spec in enumerate(cfg.layers):
        spatial = len(shape) == 3
        if spec.conv is not None:
            if not spatial:
                raise ValueError(f"layer {index}: conv needs feature maps, but the input is flat")
            c = spec.conv
            add("conv", nn.Conv2d(shape[0], c["out"], c["kernel"], c["stride"], c["padding"]))
        elif spec.pool is not None:
            p = spec.pool
            pool = nn.MaxPool2d if p["type"] == "max" else nn.AvgPool2d
            add("pool", pool(p["size"], p["stride"]))
        elif spec.batchnorm:
            add("bn", nn.BatchNorm2d(shape[0]) if spatial else nn.BatchNorm1d(shape[0]))
        elif spec.dropout is not None:
            add("dropout", nn.Dropout(spec.dropout))
        elif spec.act is not None:
            add("act", activation(spec.act))
        elif spec.flatten:
            add("flatten", nn.Flatten())
        elif spec.global_pool is not None:
            add("gpool", nn.AdaptiveAvgPool2d(1) if spec.global_pool == "avg" else nn.AdaptiveMaxPool2d(1))
            add("flatten", nn.Flatten())
        elif spec.linear is not None:
            if spatial:
                add("flatten", nn.Flatten())
            add("fc", nn.Linear(shape[0], spec.linear))
    if len(shape) == 3:
        add("flatten", nn.Flatten())
    modules.append(("classifier", nn.Linear(shape[0], num_classes)))
    return nn.Sequential(OrderedDict(modules))
