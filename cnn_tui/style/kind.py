"""Style transfer as an engine plug-in of runner.execute: images, feature net and levels before
the run directory exists; the image loop after. It writes the same run directory layout (plus
images/) and the same events, so the printer, the dashboard and `cnn-tui open` follow it as any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cnn_tui.contract.errors import RecipeError
from cnn_tui.contract.events import Image, StyleStarted
from cnn_tui.contract.sinks import EventSink
from cnn_tui.data.streams import Streams
from cnn_tui.engine.world import World
from cnn_tui.models.summary import count_params, layer_table
from cnn_tui.style.feature_nets import FeatureExtractor, build_feature_net
from cnn_tui.style.images import load_image, save_png
from cnn_tui.style.levels import Level, plan_levels
from cnn_tui.style.losses import StyleObjective
from cnn_tui.style.optimize import StyleOutcome, StyleTransfer
from cnn_tui.train.control import RunControl
from cnn_tui.train.heap import keep_freed_memory


def initial_image(init: str, content: torch.Tensor, style: torch.Tensor, seed: int) -> torch.Tensor:
    if init == "content":
        return content.clone()
    if init == "style":  # resized to the content's shape: the output has the content's size
        return torch.nn.functional.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(content.shape, generator=generator)


class StyleKind:
    def dry_run(self, recipe: Any) -> Any:
        recipe = recipe.model_copy(deep=True)
        recipe.steps = 2
        recipe.multiscale.coarse_steps = 1
        return recipe

    def prepare(self, recipe: Any, device: torch.device, dry_run: bool, world: World,
                streams: Streams | None = None) -> PreparedStyle:
        streams = streams or Streams(recipe.seed)
        levels = plan_levels(recipe.image_size, recipe.steps, recipe.multiscale.levels,
                             recipe.multiscale.coarse_steps)
        content = load_image(recipe.content_image, recipe.image_size, "content_image")
        style = load_image(recipe.style_image, recipe.style_size or recipe.image_size, "style_image")
        net = build_feature_net(recipe.feature_net.name, recipe.feature_net.weights, recipe.feature_net.pooling,
                                streams.seed_for("style_net"))
        wanted = list(dict.fromkeys(recipe.content_layers + recipe.style_layers))
        extractor = FeatureExtractor(net, wanted)
        layers = _layer_rows(recipe, extractor, tuple(content.shape[1:]))
        total, _ = count_params(extractor.layers)
        extractor = extractor.to(device)
        first_content = _resized(content, levels[0].size / recipe.image_size)
        first_style = _resized(style, levels[0].size / recipe.image_size)
        image = initial_image(recipe.init, first_content, first_style, streams.seed_for("style_init")).to(device)
        model_name = f"{net.name} to {next(reversed(extractor.layers._modules))}"
        return PreparedStyle(recipe, device, levels, content.to(device), style.to(device), extractor, image,
                             layers, total, model_name, streams.scheme)

    def describe(self, recipe: Any) -> tuple[list[dict[str, Any]], int, int, str]:
        from cnn_tui.engine.validate import describe_feature_net

        return describe_feature_net(recipe)

    def check(self, recipe: Any, path: Path) -> str:
        from cnn_tui.engine.validate import check_style

        return check_style(recipe, path)


@dataclass
class PreparedStyle:
    recipe: Any
    device: torch.device
    levels: list[Level]
    content: torch.Tensor
    style: torch.Tensor
    extractor: FeatureExtractor
    image: torch.Tensor  # the first level's starting image
    layers: list[dict[str, Any]]
    total_params: int
    model_name: str
    streams: int  # the scheme of random streams (data/streams.py), saved with the checkpoint

    def build(self, size: int) -> StyleObjective:
        """The objective at one level's size: both images scaled by the same factor."""
        recipe = self.recipe
        scale = size / recipe.image_size
        return StyleObjective(self.extractor, _resized(self.content, scale), _resized(self.style, scale),
                              recipe.content_layers, recipe.style_layers, recipe.style_layer_weights,
                              recipe.content_weight, recipe.style_weight, recipe.tv_weight)

    def start(self, sink: EventSink, control: RunControl, run_dir: Path | None) -> StyleTransfer:
        if self.device.type == "cpu":
            keep_freed_memory()  # each step's activations reused, not faulted in afresh (train/heap.py)
        return StyleTransfer(self.recipe, self.levels, self.build, self.image, self.device, sink, control, run_dir,
                             self.streams)

    def started(self, loop: StyleTransfer, **common: Any) -> StyleStarted:
        height, width = self.content.shape[-2:]
        return StyleStarted(
            **common, total_steps=loop.total_steps, model_name=f"{self.model_name} ({width}x{height} px)",
            layers=[{**row, "trainable": 0} for row in self.layers], total_params=self.total_params,
            trainable_params=0, width=int(width), height=int(height), levels=[level.size for level in self.levels])

    def after_started(self, sink: EventSink, run_dir: Path | None, loop: StyleTransfer) -> None:
        if run_dir is None:
            return
        for tag, picture in (("content", self.content), ("style", self.style)):
            save_png(picture, run_dir / "images" / f"{tag}.png")
            sink.emit(Image(step=loop.step, path=f"images/{tag}.png", tag=tag))

    def finish(self, outcome: StyleOutcome, loop: StyleTransfer) -> None:
        """Nothing after the loop: its own closing diagnoses are the loop's (style/optimize.py)."""

    def summary(self, outcome: StyleOutcome, loop: StyleTransfer) -> dict[str, Any]:
        final_png = loop.run_dir is not None and (loop.run_dir / "images" / "final.png").exists()
        return dict(steps=loop.step, steps_planned=loop.total_steps, params=self.total_params, best={},
                    first=outcome.first, final=outcome.final, style_loss_drop=_drop(outcome.first, outcome.final),
                    loss_evaluations=loop.evaluations,  # this segment's: L-BFGS evaluates ~2 times a step
                    final_image="images/final.png" if final_png else None)


def _resized(image: torch.Tensor, scale: float) -> torch.Tensor:
    """`image` scaled by `scale` (antialiased when shrinking); itself at scale 1."""
    if scale == 1:
        return image
    height, width = (max(1, round(n * scale)) for n in image.shape[-2:])
    return torch.nn.functional.interpolate(image, size=(height, width), mode="bilinear", align_corners=False,
                                           antialias=True).clamp(0, 1)


def _layer_rows(recipe: Any, extractor: FeatureExtractor, shape: tuple[int, ...]) -> list[dict[str, Any]]:
    """The layer table, run once on a blank image: it also proves the image is big enough."""
    try:
        return layer_table(extractor.layers, shape)
    except RuntimeError as exc:
        deepest = next(reversed(extractor.layers._modules))
        raise RecipeError(
            f"image_size: a {shape[2]}x{shape[1]} px image is too small for {recipe.feature_net.name} "
            f"down to {deepest} ({' '.join(str(exc).split())[:80]}); raise image_size or use shallower layers"
        ) from None


def _drop(first: dict[str, Any], final: dict[str, Any]) -> float | None:
    before, after = first.get("loss/style"), final.get("loss/style")
    if not before or not after:
        return None
    return round(float(before) / float(after), 3)

