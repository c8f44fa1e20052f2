"""Inception v3 (Szegedy et al., 2015) from torchvision as a base of named blocks.

Two things make it unlike the other bases:
- torchvision's ImageNet weights are Google's, trained on inputs scaled to [-1, 1]; torchvision
  feeds them ImageNet-normalised images and converts inside the net (`transform_input`). The
  blocks are called one by one here, so that conversion becomes the stem's first module.
- Its auxiliary classifier (on Mixed_6e) is a second ImageNet head, trained with the net and
  used only in training. A base is the net without its classifiers (Keras' include_top=False),
  so the base leaves it out, as it leaves out `fc`; `predict --backbone inception_v3` keeps the
  whole net, where eval mode ignores it.

The smallest input it takes is 75 px (below that Mixed_7a's 3x3 stride-2 convs have no room);
it was trained at 299 px, the recipes' default for it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.models.backbones.weights import IMAGENET_MEAN, IMAGENET_STD

# torchvision builds the ImageNet-weights net with these (inception_v3(weights=...) sets them)
BUILD_KWARGS: dict[str, Any] = {"transform_input": True, "aux_logits": True, "init_weights": True}
FEATURES = 2048  # channels of Mixed_7c


class ImageNetToInception(nn.Module):
    """ImageNet-normalised input to Google's [-1, 1] scaling, per channel (torchvision's
    Inception3._transform_input, as a module)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x[:, c:c + 1] * (s / 0.5) + (m - 0.5) / 0.5
                          for c, (m, s) in enumerate(zip(IMAGENET_MEAN, IMAGENET_STD))], 1)


def split(net: Any) -> nn.Sequential:
    """stem (up to maxpool2), then each Inception module a block (mixed_5b ... mixed_7c), so that
    `unfreeze: 2` trains the top two modules, as Keras' fine-tuning example does."""
    stem = nn.Sequential(ImageNetToInception(), net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3,
                         net.maxpool1, net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, net.maxpool2)
    blocks: OrderedDict[str, nn.Module] = OrderedDict(stem=stem)
    for name, module in net.named_children():
        if name.startswith("Mixed_"):
            blocks[name.lower()] = module
    return nn.Sequential(blocks)
