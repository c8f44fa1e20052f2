"""GoogLeNet (Szegedy et al., 2014): Inception modules, four branches concatenated: a 1x1 conv,
a 1x1 reduction then 3x3, a 1x1 reduction then 5x5, a 3x3 max-pool then a 1x1 projection. The
reductions are what make it affordable (the course's point: 1x1 convs cut the 5x5's MACs by
an order of magnitude). The nine modules of the paper's Table 1, its stem (7x7/2, pool, 1x1,
3x3, pool), global average pooling, dropout 0.4 and one linear layer. `scale` multiplies every
channel count; at 1 and 224 px this is the paper's net, which differs from torchvision's
googlenet only in the 5x5 branch (torchvision uses a 3x3 there).

`aux_classifiers: true` adds the paper's two auxiliary classifiers on 4a and 4d (5x5/3 average
pool, here adaptive to 4x4 as torchvision's; 1x1 conv of 128, dense 1024, dropout 0.7, linear):
in training their losses are added with weight 0.3 (AUX_WEIGHT); at inference they are not run.
`factorize` (Szegedy et al., 2015, "Rethinking the Inception Architecture"): 3x3 replaces each
5x5 by two 3x3 (Fig. 5, Inception v2: 18/25 of the weights for the same receptive field);
asymmetric also splits every 3x3 into a 1x3 then a 3x1 (Fig. 6 with n = 3: 6/9 of the weights).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.models.parts import activation
from cnn_tui.models.stems import imagenet_stem, scaled
from cnn_tui.recipes.schema import Model

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; "M" a 3x3/2 max-pool
MODULES: list[tuple[str, tuple[int, ...]] | str] = [
    ("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64)), "M",
    ("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)), ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)), ("4e", (256, 160, 320, 32, 128, 128)), "M",
    ("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128)),
]


AUX_AFTER = ("inception4a", "inception4d")  # where the paper's auxiliary classifiers branch off
AUX_WEIGHT = 0.3  # "the losses of the auxiliary classifiers were weighted by 0.3"


def conv(in_ch: int, out_ch: int, kernel: int | tuple[int, int], cfg: Model, stride: int = 1) -> nn.Sequential:
    """conv -> batch norm (optional) -> activation, padded to keep the size."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    layers: list[tuple[str, nn.Module]] = [
        ("conv", nn.Conv2d(in_ch, out_ch, (kh, kw), stride=stride, padding=(kh // 2, kw // 2),
                           bias=not cfg.batch_norm))]
    if cfg.batch_norm:
        layers.append(("bn", nn.BatchNorm2d(out_ch)))
    layers.append(("act", activation(cfg.activation)))
    return nn.Sequential(OrderedDict(layers))


class Inception(nn.Module):
    def __init__(self, in_ch: int, widths: tuple[int, ...], cfg: Model) -> None:
        super().__init__()
        n1, r3, n3, r5, n5, proj = widths
        self.branch1 = conv(in_ch, n1, 1, cfg)
        factorize = cfg.factorize
        self.branch3 = nn.Sequential(OrderedDict([("reduce", conv(in_ch, r3, 1, cfg)),
                                                  *three_by_three("conv", r3, n3, cfg, factorize)]))
        five = [("conv", conv(r5, n5, 5, cfg))] if factorize == "none" else [
            *three_by_three("conv", r5, n5, cfg, factorize), *three_by_three("conv2", n5, n5, cfg, factorize)]
        self.branch5 = nn.Sequential(OrderedDict([("reduce", conv(in_ch, r5, 1, cfg)), *five]))
        self.branch_pool = nn.Sequential(OrderedDict([("pool", nn.MaxPool2d(3, stride=1, padding=1)),
                                                      ("proj", conv(in_ch, proj, 1, cfg))]))
        self.out_channels = n1 + n3 + n5 + proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


def three_by_three(name: str, in_ch: int, out_ch: int, cfg: Model, factorize: str) -> list[tuple[str, nn.Module]]:
    """A 3x3 conv, or (asymmetric) a 1x3 then a 3x1, both out_ch wide."""
    if factorize != "asymmetric":
        return [(name, conv(in_ch, out_ch, 3, cfg))]
    return [(f"{name}_1x3", conv(in_ch, out_ch, (1, 3), cfg)), (f"{name}_3x1", conv(out_ch, out_ch, (3, 1), cfg))]


class AuxClassifier(nn.Module):
    """The paper's side head: average pool to 4x4, 1x1 conv of 128, dense 1024, dropout 0.7, linear."""

    def __init__(self, in_ch: int, num_classes: int, cfg: Model) -> None:
        super().__init__()
        width, hidden = scaled(128, cfg.scale), scaled(1024, cfg.scale)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.conv = conv(in_ch, width, 1, cfg)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(width * 16, hidden)
        self.act = activation(cfg.activation)
        self.drop = nn.Dropout(0.7)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.fc(self.flatten(self.conv(self.pool(x)))))
        return self.classifier(self.drop(x))


class GoogLeNet(nn.Sequential):
    """The main path in order; the auxiliary heads (children named aux1, aux2) branch off after
    AUX_AFTER in training, and in the layer table's pass (`tabulating`), never at inference."""

    def __init__(self, layers: list[tuple[str, nn.Module]], aux: dict[str, nn.Module]) -> None:
        super().__init__(OrderedDict(layers + list(aux.items())))
        self.aux_after = dict(zip(AUX_AFTER, aux))  # inception4a -> aux1, inception4d -> aux2
        self.training_only = list(aux)  # children that inference never runs (feature maps skip them)
        self.aux_logits: list[torch.Tensor] = []
        self.tabulating = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.aux_logits = []
        side = self.training or self.tabulating
        for name, module in self._modules.items():
            if name in self.training_only or module is None:
                continue
            x = module(x)
            if side and name in self.aux_after:
                self.aux_logits.append(self._modules[self.aux_after[name]](x))
        return x


def auxiliary_loss(model: nn.Module, y: torch.Tensor, criterion) -> torch.Tensor | None:
    """AUX_WEIGHT x the side heads' losses of the last training forward (None: the model has none)."""
    logits = getattr(model, "aux_logits", None)
    if not logits:
        return None
    return AUX_WEIGHT * sum(criterion(out, y) for out in logits)


def inception(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    s = cfg.scale
    big = imagenet_stem(cfg, image_size)
    c64, c192 = scaled(64, s), scaled(192, s)
    if big:
        layers: list[tuple[str, nn.Module]] = [
            ("conv1", conv(in_channels, c64, 7, cfg, stride=2)), ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2", conv(c64, c64, 1, cfg)), ("conv3", conv(c64, c192, 3, cfg)),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True))]
    else:
        layers = [("conv1", conv(in_channels, c64, 3, cfg)), ("conv3", conv(c64, c192, 3, cfg))]
    channels, pools = c192, 0
    aux: dict[str, nn.Module] = {}
    for item in MODULES:
        if isinstance(item, str):
            pools += 1
            layers.append((f"pool{pools + 2}", nn.MaxPool2d(3, 2, ceil_mode=True)))
            continue
        name, widths = item
        module = Inception(channels, tuple(scaled(w, s) for w in widths), cfg)
        layers.append((f"inception{name}", module))
        channels = module.out_channels
        if f"inception{name}" in AUX_AFTER and cfg.aux_classifiers:
            aux[f"aux{len(aux) + 1}"] = AuxClassifier(channels, num_classes, cfg)
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
               ("drop", nn.Dropout(cfg.dropout or 0.4)), ("classifier", nn.Linear(channels, num_classes))]
    return GoogLeNet(layers, aux) if aux else nn.Sequential(OrderedDict(layers))
