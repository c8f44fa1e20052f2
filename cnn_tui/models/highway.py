"""Highway network (Srivastava et al., 2015), convolutional: each layer computes
y = H(x) * T(x) + x * (1 - T(x)), a transform H (3x3 conv, batch norm, activation) weighed by a
learned transform gate T (a 3x3 conv and a sigmoid) against the carried input. Gates start
mostly closed (`gate_bias`, -2: 12% transform) so that a deep stack first passes its input
through, the idea residual networks later fixed at T = 1/2 (and without a gate). Stages of
`blocks` layers at `width` doubling channels, a 1x1 conv and a 2x2 pool between stages."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation
from cnn_tui.recipes.schema import Model


class HighwayLayer(nn.Module):
    def __init__(self, channels: int, cfg: Model) -> None:
        super().__init__()
        self.transform = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(channels, channels, 3, padding=1, bias=not cfg.batch_norm)),
            ("bn", nn.BatchNorm2d(channels) if cfg.batch_norm else nn.Identity()),
            ("act", activation(cfg.activation))]))
        self.gate = nn.Conv2d(channels, channels, 3, padding=1)
        self.gate_bias = cfg.gate_bias

    def reset_gate(self) -> None:
        """Called after the net's initialisation, which would otherwise zero the gate's bias."""
        assert self.gate.bias is not None
        nn.init.constant_(self.gate.bias, self.gate_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.sigmoid(self.gate(x))
        return self.transform(x) * t + x * (1 - t)


class Highway(nn.Sequential):
    def reset_gates(self) -> Highway:
        for module in self.modules():
            if isinstance(module, HighwayLayer):
                module.reset_gate()
        return self


def highway(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    width = cfg.width or 16
    if image_size >> (len(cfg.blocks) - 1) < 1:
        raise ValueError(f"{len(cfg.blocks)} stages halve {image_size} px images to nothing")
    layers: list[tuple[str, nn.Module]] = [("stem", nn.Conv2d(in_channels, width, 3, padding=1)),
                                           ("stem_act", activation(cfg.activation))]
    channels = width
    for stage, count in enumerate(cfg.blocks, start=1):
        if stage > 1:
            out = width * 2 ** (stage - 1)
            layers += [(f"widen{stage}", nn.Conv2d(channels, out, 1)), (f"pool{stage}", nn.MaxPool2d(2))]
            channels = out
        layers.append((f"stage{stage}", nn.Sequential(*(HighwayLayer(channels, cfg) for _ in range(count)))))
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten())]
    if cfg.dropout:
        layers.append(("drop", nn.Dropout(cfg.dropout)))
    layers.append(("classifier", nn.Linear(channels, num_classes)))
    return Highway(OrderedDict(layers)).reset_gates()
