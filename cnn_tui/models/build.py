"""Dispatch a recipe's `model:` section to its builder, then initialise the weights."""

from __future__ import annotations

import torch.nn as nn

from cnn_tui.errors import RecipeError
from cnn_tui.models.external import python_model, torchvision_model
from cnn_tui.models.layers import from_layers
from cnn_tui.models.lenet import lenet5
from cnn_tui.models.parts import initialise
from cnn_tui.models.resnet import resnet
from cnn_tui.models.vgg import vgg

BUILDERS = {"lenet5": lenet5, "vgg": vgg, "resnet": resnet, "layers": from_layers}
EXTERNAL = {"torchvision": torchvision_model, "python": python_model}  # they keep their own initialisation


def build_model(cfg, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    if cfg.arch in EXTERNAL:
        return EXTERNAL[cfg.arch](cfg, in_channels, image_size, num_classes)
    try:
        model = BUILDERS[cfg.arch](cfg, in_channels, image_size, num_classes)
    except (ValueError, RuntimeError) as exc:
        raise RecipeError(
            f"model.arch: cannot build '{cfg.arch}' for {image_size} px images with "
            f"{in_channels} channel(s): {exc}; raise data.image_size or use fewer pools/stages"
        ) from None
    return initialise(model, cfg.init)

