"""The one place a classification recipe becomes a network: training (models.plan),
`validate`/the picker's layer table (validate) and `predict` all build it here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn as nn

from cnn_tui.recipes.families import ClassifierRecipe
from cnn_tui.recipes.schema import Recipe


@dataclass
class BuiltClassifier:
    model: nn.Module
    name: str  # in words: "lenet5", "resnet18 + head"
    normalisation: tuple[tuple[float, ...], tuple[float, ...]] | None  # a pretrained base's (mean, std)


def build_classifier(recipe: ClassifierRecipe, channels: int, image_size: int, classes: int,
                     base_weights: str = "none") -> BuiltClassifier:
    """scratch: the recipe's own net (its inputs are normalised with the data's statistics); the
    transfer kinds: a pretrained base with `base_weights` ("none" builds it untrained, fast: the
    shapes are the same) and a new head, normalised as the base was trained."""
    if isinstance(recipe, Recipe):
        from cnn_tui.models.build import build_model

        return BuiltClassifier(build_model(recipe.model, channels, image_size, classes), recipe.model.label(), None)
    from cnn_tui.models.backbones.registry import build_base
    from cnn_tui.models.transfer import TransferNet

    base = build_base(recipe.backbone.name, base_weights)
    return BuiltClassifier(TransferNet.for_recipe(base, classes, recipe), f"{recipe.backbone.name} + head",
                           (base.mean, base.std))
