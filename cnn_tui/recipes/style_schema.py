"""The `kind: style_transfer` recipe (Gatys et al., 2016): optimise an image, not a net.

There is no dataset and no classifier here, so this kind has its own fields instead of
`data:` and `train:`. Layer names are checked against the chosen feature net.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cnn_tui.contract.errors import excerpt
from cnn_tui.recipes.schema import RecipeCommon
from cnn_tui.recipes.strict import Strict
from cnn_tui.recipes.weights import IMAGENET, RANDOM_INIT
from cnn_tui.style.layer_names import DEFAULT_LAYERS, layer_names
from cnn_tui.style.levels import MIN_LEVEL_PX
from cnn_tui.style.samples import unknown_sample

DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}


class FeatureNetSpec(Strict):
    name: Literal["vgg19", "vgg16", "random", "efficientnet_lite0"] = "vgg19"
    weights: str = IMAGENET  # imagenet, none (random init), or a state-dict file; random: none
    pooling: Literal["avg", "max"] = "avg"  # vgg/random: Gatys et al. found average pooling smoother

    @model_validator(mode="after")
    def _random_has_no_weights(self) -> FeatureNetSpec:
        if self.name == "random":
            if "weights" in self.model_fields_set and self.weights != RANDOM_INIT:
                raise ValueError(f"the random net is never trained: leave out weights or set it to {RANDOM_INIT}")
            if self.weights != RANDOM_INIT:  # assigning re-runs this validator: only once
                self.weights = RANDOM_INIT
        return self


class StyleOptimizer(Strict):
    name: Literal["lbfgs", "adam"] = "lbfgs"  # lbfgs: one iteration (with line search) per step
    lr: float | None = Field(None, gt=0.0, le=100.0)  # default: 1.0 for lbfgs, 0.02 for adam (pixels in 0..1)
    history_size: int = Field(50, ge=1, le=1000)  # lbfgs: past steps kept for the curvature estimate


class Multiscale(Strict):
    """Coarse to fine: optimise at image_size / 2**(levels-1) first, upsample, continue."""

    levels: int = Field(1, ge=1, le=4)  # 1: a single size (off); 2: half size, then full size
    coarse_steps: int = Field(100, ge=1, le=1_000_000)  # steps at each coarser level (cheap: 1/4 the pixels)


class StyleLogging(Strict):
    every_steps: int = Field(5, ge=1)  # step events (losses, s/step)
    snapshot_every: int = Field(25, ge=1)  # save images/step_NNNNN.png (and last.pt) this often


class StyleTransferRecipe(RecipeCommon):
    kind: Literal["style_transfer"]
    content_image: str = "sample:chelsea"  # a path relative to the recipe, or sample:NAME
    style_image: str = "sample:mosaic"
    image_size: int = Field(256, ge=16, le=4096)  # px, the longer side of the output
    style_size: int | None = Field(None, ge=16, le=4096)  # px, the style image's longer side (default: image_size)
    feature_net: FeatureNetSpec = Field(default_factory=FeatureNetSpec)
    content_layers: list[str] | None = None  # default: the net's (conv4_2 for VGG, as in the paper)
    style_layers: list[str] | None = None  # default: the net's (conv1_1 .. conv5_1 for VGG)
    style_layer_weights: list[float] | None = None  # one per style layer; default 1/N each (the paper's)
    # The loss terms are relative (each layer's error over its target's mean square), so these
    # defaults fit any pair of images and any feature net; tested over a matrix of pairs.
    content_weight: float = Field(1.0, ge=0.0)
    style_weight: float = Field(10.0, ge=0.0)  # higher: more style, less of the content image
    tv_weight: float = Field(10.0, ge=0.0)  # total variation (in pixels^2): keeps noise out
    init: Literal["content", "style", "noise"] = "content"  # the image the optimisation starts from
    steps: int = Field(300, ge=1, le=1_000_000)
    optimizer: StyleOptimizer = Field(default_factory=StyleOptimizer)
    multiscale: Multiscale = Field(default_factory=Multiscale)
    log: StyleLogging = Field(default_factory=StyleLogging)

    @model_validator(mode="before")
    @classmethod
    def _no_training_sections(cls, raw: Any) -> Any:
        """`train:`/`data:` (or `--epochs`) from the other kinds: say what this kind uses instead."""
        if isinstance(raw, dict):
            for key, instead in (("train", "steps: N and optimizer:"), ("data", "content_image:, style_image: "
                                                                              "and image_size:")):
                if key in raw:
                    raise ValueError(f"{key}: style transfer has no {key} section; it uses {instead} "
                                     f"(e.g. --set steps=300)")
        return raw

    @field_validator("content_image", "style_image")
    @classmethod
    def _known_sample(cls, value: str) -> str:
        problem = unknown_sample(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("content_layers", "style_layers")
    @classmethod
    def _known_layers(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        spec = info.data.get("feature_net")
        if value is None or spec is None:
            return value
        allowed = layer_names(spec.name)
        for name in value:
            if name not in allowed:
                raise ValueError(f"{excerpt(name)} is not a layer of {spec.name}; allowed: {', '.join(allowed)}")
        return value

    @field_validator("style_layer_weights")
    @classmethod
    def _non_negative(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (not value or any(w < 0 for w in value)):
            raise ValueError("needs one number >= 0 per style layer")
        return value

    @model_validator(mode="after")
    def _layers(self) -> StyleTransferRecipe:
        net = self.feature_net.name
        content, style = DEFAULT_LAYERS[net]
        if self.content_layers is None:
            self.content_layers = list(content)
        if self.style_layers is None:
            self.style_layers = list(style)
        if not self.style_layers and not self.content_layers:
            raise ValueError("content_layers and style_layers are both empty: nothing to optimise")
        if self.style_layer_weights is None:
            self.style_layer_weights = [1.0 / max(len(self.style_layers), 1)] * len(self.style_layers)
        elif len(self.style_layer_weights) != len(self.style_layers):
            raise ValueError(f"style_layer_weights: {len(self.style_layer_weights)} weights for "
                             f"{len(self.style_layers)} style layers; give one per layer")
        if self.optimizer.lr is None:
            self.optimizer.lr = DEFAULT_LR[self.optimizer.name]
        coarsest = self.image_size >> (self.multiscale.levels - 1)
        if coarsest < MIN_LEVEL_PX:
            raise ValueError(f"multiscale.levels: {self.multiscale.levels} levels from {self.image_size} px would "
                             f"start at {coarsest} px; the coarsest level needs at least {MIN_LEVEL_PX} px "
                             "(fewer levels, or a larger image_size)")
        return self

