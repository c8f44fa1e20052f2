"""Dispatch a recipe's `model:` section to its builder, then initialise the weights."""

from __future__ import annotations

import torch.nn as nn

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.alexnet import alexnet
from cnn_tui.models.densenet import densenet
from cnn_tui.models.external import python_model, torchvision_model
from cnn_tui.models.highway import Highway, highway
from cnn_tui.models.inception import inception
from cnn_tui.models.layers import from_layers
from cnn_tui.models.lenet import lenet5
from cnn_tui.models.parts import initialise
from cnn_tui.models.resnet import resnet
from cnn_tui.models.vgg import vgg
from cnn_tui.recipes.schema import Model

BUILDERS = {"lenet5": lenet5, "alexnet": alexnet, "vgg": vgg, "inception": inception, "resnet": resnet,
            "highway": highway, "densenet": densenet, "layers": from_layers}
EXTERNAL = {"torchvision": torchvision_model, "python": python_model}  # they keep their own initialisation


def build_model(cfg: Model, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    if cfg.arch in EXTERNAL:
        return EXTERNAL[cfg.arch](cfg, in_channels, image_size, num_classes)
    try:
        model = BUILDERS[cfg.arch](cfg, in_channels, image_size, num_classes)
    except (ValueError, RuntimeError) as exc:
        raise RecipeError(
            f"model.arch: cannot build '{cfg.arch}' for {image_size} px images with "
            f"{in_channels} channel(s): {exc}; raise data.image_size or use fewer pools/stages"
        ) from None
    model = initialise(model, cfg.init, cfg.init_std)
    return model.reset_gates() if isinstance(model, Highway) else model  # the gates' bias is part of the design

