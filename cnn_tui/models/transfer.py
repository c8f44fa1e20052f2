"""A pretrained base plus a new dense head, with freezing by blocks.

Frozen means requires_grad=False, and every batch-norm layer of the base stays in eval
mode (its running statistics are ImageNet's and are never updated, even when its block is
unfrozen): with small datasets, re-estimating them hurts more than it helps (the advice
Keras gives for fine-tuning).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from cnn_tui.models.backbones.registry import BaseNet


def make_head(features: int, num_classes: int, hidden: int, dropout: float) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = []
    if hidden:
        layers += [("fc1", nn.Linear(features, hidden)), ("relu", nn.ReLU(inplace=True))]
        features = hidden
    if dropout:
        layers.append(("dropout", nn.Dropout(dropout)))
    layers.append(("classifier", nn.Linear(features, num_classes)))
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(layers))


class PooledBase(nn.Module):
    """The base's blocks, then global average pooling to a feature vector."""

    def __init__(self, blocks: nn.Sequential) -> None:
        super().__init__()
        self.blocks = blocks
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flatten(self.pool(self.blocks(x)))


class TransferNet(nn.Module):
    def __init__(self, base: BaseNet, num_classes: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.base = PooledBase(base.blocks)
        self.head = make_head(base.features, num_classes, hidden, dropout)
        self.set_trainable(0)

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
                p.requires_grad_(name in unfrozen)
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
        for module in self.base.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self
