"""A pretrained base plus a new dense head, with freezing by blocks.

Frozen means requires_grad=False, and every batch-norm layer of the base stays in eval
mode (its running statistics are ImageNet's and are never updated, even when its block is
unfrozen): with small datasets, re-estimating them hurts more than it helps (the advice
Keras gives for fine-tuning).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.backbones.registry import BaseNet


def make_head(features: int, num_classes: int, hidden: int, dropout: float) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = []
    if hidden:
        layers += [("fc1", nn.Linear(features, hidden)), ("relu", nn.ReLU(inplace=True))]
        features = hidden
    if dropout:
        layers.append(("dropout", nn.Dropout(dropout)))
    layers.append(("classifier", nn.Linear(features, num_classes)))
    return nn.Sequential(OrderedDict(layers))


class PooledBase(nn.Module):
    """The base's blocks, then global average or max pooling to a feature vector, or (flatten)
    the whole final feature map as one vector: the course's Flatten (4x4x512 = 8192 for VGG16
    at 150 px) before Dense(256)."""

    def __init__(self, blocks: nn.Sequential, pool: str = "avg") -> None:
        super().__init__()
        self.blocks = blocks
        self.pool = {"avg": nn.AdaptiveAvgPool2d(1), "max": nn.AdaptiveMaxPool2d(1)}.get(pool)
        self.flatten = nn.Flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(x)
        return self.flatten(self.pool(x) if self.pool is not None else x)


class TransferNet(nn.Module):
    """`until` cuts the base after that block (early layers: generic features, for data far from
    ImageNet); the blocks in `reinit` start from fresh random weights and always train (layer
    transfer: keep the first blocks, learn the rest)."""

    def __init__(self, base: BaseNet, num_classes: int, hidden: int, dropout: float, *, pool: str = "avg",
                 until: str | None = None, reinit: list[str] | tuple[str, ...] = (), image_size: int = 224,
                 backbone: str = "the backbone") -> None:
        super().__init__()
        blocks = _cut(base.blocks, until, backbone)
        self.reinit = _checked(blocks, reinit, backbone, "backbone.reinit")
        for name in self.reinit:
            for module in blocks.get_submodule(name).modules():
                reset = getattr(module, "reset_parameters", None)
                if callable(reset):
                    reset()
        self.base = PooledBase(blocks, pool)
        features = base.features if pool != "flatten" and until is None else _width(self.base, image_size)
        self.head = make_head(features, num_classes, hidden, dropout)
        self.set_trainable(0)

    @classmethod
    def for_recipe(cls, base: BaseNet, num_classes: int, recipe) -> TransferNet:
        b, h = recipe.backbone, recipe.head
        return cls(base, num_classes, h.hidden, h.dropout, pool=h.pool, until=b.until, reinit=b.reinit,
                   image_size=recipe.data.image_size, backbone=b.name)

    @property
    def block_names(self) -> list[str]:
        return [name for name, _ in self.base.blocks.named_children()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.base(x))

    def set_trainable(self, last_blocks: int) -> list[str]:
        """Freeze the base but its last `last_blocks` blocks; returns the unfrozen block names."""
        names = self.block_names
        unfrozen = names[len(names) - last_blocks:] if last_blocks else []
        for name, block in self.base.blocks.named_children():
            for p in block.parameters():
                p.requires_grad_(name in unfrozen or name in self.reinit)
        for p in self.head.parameters():
            p.requires_grad_(True)
        return unfrozen

    def param_groups(self, lr: float, base_lr_factor: float) -> list[dict]:
        """The head at lr, unfrozen base blocks at lr x base_lr_factor (discriminative rates)."""
        groups = [{"params": [p for p in self.head.parameters() if p.requires_grad], "lr": lr, "name": "head"}]
        base = [p for p in self.base.parameters() if p.requires_grad]
        if base:
            groups.append({"params": base, "lr": lr * base_lr_factor, "name": "base"})
        return groups

    def train(self, mode: bool = True) -> TransferNet:
        super().train(mode)
        for name, block in self.base.blocks.named_children():
            for module in block.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and name not in self.reinit:
                    module.eval()  # a re-initialised block has no ImageNet statistics to keep
        return self


def _checked(blocks: nn.Sequential, names: list[str] | tuple[str, ...] | None, backbone: str,
             field: str) -> list[str]:
    """The names, each a block of the base (else one recipe error listing the blocks there are)."""
    have = [name for name, _ in blocks.named_children()]
    for name in names or ():
        if name not in have:
            raise RecipeError(f"{field}: '{name}' is not a block of {backbone}"
                              f"{' as cut' if field == 'backbone.reinit' else ''}; allowed: {', '.join(have)}")
    return list(names or ())


def _cut(blocks: nn.Sequential, until: str | None, backbone: str) -> nn.Sequential:
    if until is None:
        return blocks
    _checked(blocks, [until], backbone, "backbone.until")
    kept: list[tuple[str, nn.Module]] = []
    for name, block in blocks.named_children():
        kept.append((name, block))
        if name == until:
            break
    return nn.Sequential(OrderedDict(kept))


def _width(base: PooledBase, image_size: int) -> int:
    """Features the pooled (or flattened) base gives for one image, from one forward pass."""
    device = next((p.device for p in base.parameters()), torch.device("cpu"))
    was_training = base.training
    try:
        with torch.no_grad():
            return int(base.eval()(torch.zeros(1, 3, image_size, image_size, device=device)).shape[1])
    except RuntimeError as exc:
        raise RecipeError(f"data.image_size: {image_size} px is too small for this base ({exc})") from None
    finally:
        base.train(was_training)
