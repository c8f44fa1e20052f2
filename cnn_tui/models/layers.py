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
      - conv: {out: 64, kernel: 3, dilation: 2}     # sees 5x5 with 3x3's weights
      - conv: {out: 64, kernel: 3, groups: 64}       # depthwise: one 3x3 per channel...
      - conv: {out: 128, kernel: 1}                  # ...then 1x1: a depthwise separable conv
      - groupnorm: 32                                # or layernorm / instancenorm / lrn: true
      - conv_transpose: {out: 32, kernel: 2, stride: 2}   # doubles height and width
A final classifier (a linear layer to the number of classes) is appended for you, with
a flatten before it when the last layer still produces feature maps. What each key means:
cnn_tui/recipes/layers_schema.py.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.parts import activation, local_response_norm

MAPS_ONLY = ("conv", "conv_transpose", "instancenorm", "groupnorm", "lrn", "pool")


def _check_groups(index: int, groups: int, channels: int, key: str = "conv.groups") -> None:
    """A grouped layer splits its input channels into `groups` equal parts: a recipe error
    (not a shape one) when they do not divide."""
    if channels % groups:
        depthwise = f" ({channels}: one filter per channel, a depthwise conv)" if key == "conv.groups" else ""
        raise RecipeError(f"model.layers[{index}].{key}: {groups} does not divide the {channels} input channels; "
                          f"allowed: a divisor of {channels}{depthwise}")


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
        kind = next(name for name in type(spec).model_fields if getattr(spec, name) is not None)
        if kind in MAPS_ONLY and not spatial:
            raise RecipeError(f"model.layers[{index}].{kind}: needs feature maps, but the layers before it give "
                              "a flat vector; allowed: before flatten, global_pool and linear")
        if spec.conv is not None:
            c = spec.conv
            _check_groups(index, c["groups"], shape[0])
            add("conv", nn.Conv2d(shape[0], c["out"], c["kernel"], c["stride"], c["padding"],
                                  dilation=c["dilation"], groups=c["groups"]))
        elif spec.conv_transpose is not None:
            t = spec.conv_transpose
            add("deconv", nn.ConvTranspose2d(shape[0], t["out"], t["kernel"], t["stride"], t["padding"],
                                             output_padding=t["output_padding"]))
        elif spec.layernorm:  # Wu & He's LN for conv nets: over (C, H, W), a scale and shift per channel
            add("ln", nn.GroupNorm(1, shape[0]) if spatial else nn.LayerNorm(shape[0]))
        elif spec.instancenorm:
            add("in", nn.InstanceNorm2d(shape[0], affine=True))
        elif spec.groupnorm is not None:
            _check_groups(index, spec.groupnorm, shape[0], "groupnorm")
            add("gn", nn.GroupNorm(spec.groupnorm, shape[0]))
        elif spec.lrn is not None:
            add("lrn", local_response_norm(**spec.lrn))
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
