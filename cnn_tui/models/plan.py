"""What a recipe trains: the model, its preprocessing, its phases and its layer table.

scratch: a net built from the recipe, inputs normalised with the data's own statistics.
feature_extraction: a frozen pretrained base and a new head; `precompute` trains only the
  head on cached features, `end_to_end` keeps the frozen base in the model (augmentation).
fine_tuning: the same model, trained in phases that unfreeze the base's last blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.data.batches import channel_stats
from cnn_tui.data.bundle import DataBundle
from cnn_tui.models.classifier import build_classifier
from cnn_tui.models.summary import count_params, layer_table
from cnn_tui.recipes.families import ClassifierRecipe
from cnn_tui.recipes.schema import FeatureExtractionRecipe, FineTuningRecipe, Recipe


@dataclass
class PhasePlan:
    name: str
    epochs: int
    optimizer: Any
    schedule: Any
    unfreeze: int | None = None  # None: leave trainability as it is
    base_lr_factor: float = 1.0


@dataclass
class ModelPlan:
    model: nn.Module  # what the trainer trains
    model_name: str
    layers: list[dict[str, Any]]  # the table users see (the whole model, frozen parts marked)
    total_params: int
    trainable_params: int
    mean: torch.Tensor
    std: torch.Tensor
    phases: list[PhasePlan] = field(default_factory=list)
    inputs: dict[str, Any] | None = None  # precomputed features replace the images: split -> ImageSet


def stats_sample(bundle) -> int:
    """Images the normalisation statistics are taken from (the first of the seeded training
    order): 2,000 estimate a channel's mean and std to a fraction of a percent; streamed, only
    as many as fit in 64 MB decoded (at least 256)."""
    if not bundle.streamed:
        return 2_000
    per_image = bundle.channels * bundle.image_size**2
    return max(256, min(2_000, int(64e6 // per_image)))


def plan_model(recipe: ClassifierRecipe, bundle: DataBundle, device: torch.device,
               log: Callable[[str], None]) -> ModelPlan:
    num_classes = len(bundle.class_names)
    shape = (bundle.channels, bundle.image_size, bundle.image_size)
    built = build_classifier(recipe, bundle.channels, bundle.image_size, num_classes,
                             base_weights="none" if isinstance(recipe, Recipe) else recipe.backbone.weights)
    net = built.model
    if isinstance(recipe, Recipe) and recipe.model.init_from:  # VGG's progressive training: another run's layers
        from cnn_tui.models.init_from import copy_matching

        log(copy_matching(net, recipe.model.init_from).in_words())
    table = layer_table(net, shape)
    total, trainable = count_params(net)
    if built.normalisation is None:  # scratch: the data's own statistics
        sample = bundle.train.head(stats_sample(bundle))
        mean, std = channel_stats(sample, recipe.data.normalize)
    else:
        mean, std = torch.tensor(built.normalisation[0]), torch.tensor(built.normalisation[1])
    if isinstance(recipe, FineTuningRecipe):
        phases = [PhasePlan(p.name, p.epochs, p.optimizer, p.schedule, p.unfreeze, p.base_lr_factor)
                  for p in recipe.phases]
    elif isinstance(recipe, Recipe):
        phases = [PhasePlan("train", recipe.train.epochs, recipe.train.optimizer, recipe.train.schedule)]
    else:
        phases = [PhasePlan("head", recipe.train.epochs, recipe.train.optimizer, recipe.train.schedule, 0)]
    if isinstance(recipe, FeatureExtractionRecipe) and recipe.mode == "precompute":
        from cnn_tui.models.features_cache import cached_features
        from cnn_tui.models.transfer import TransferNet

        assert isinstance(net, TransferNet)
        net.base.to(device)
        features = cached_features(recipe, net.base, bundle, mean, std, device, log)
        net.base.cpu()
        return ModelPlan(net.head, f"{built.name} (precomputed features)", table, total, trainable, mean, std,
                         phases, features)
    return ModelPlan(net, built.name, table, total, trainable, mean, std, phases)
