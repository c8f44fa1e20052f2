"""Run a style-transfer recipe: images, feature net, targets, run directory, loop, summary.

The counterpart of runner.execute for `kind: style_transfer`; it writes the same run
directory layout (plus images/) and the same events, so the printer, the dashboard and
`cnn-tui open` need nothing special to follow it.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from cnn_tui import rundir
from cnn_tui.errors import RecipeError
from cnn_tui.events import Image, RunStarted
from cnn_tui.models.summary import count_params, layer_table
from cnn_tui.recipes.loader import recipe_to_dict
from cnn_tui.sinks import EventSink, FanOut
from cnn_tui.style.feature_nets import FeatureExtractor, build_feature_net
from cnn_tui.style.images import load_image, save_png
from cnn_tui.style.levels import plan_levels
from cnn_tui.style.losses import StyleObjective
from cnn_tui.style.optimize import StyleTransfer
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import device_name, pick_device


def initial_image(init: str, content: torch.Tensor, style: torch.Tensor, seed: int) -> torch.Tensor:
    if init == "content":
        return content.clone()
    if init == "style":  # resized to the content's shape: the output has the content's size
        return torch.nn.functional.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(content.shape, generator=generator)


def execute_style(recipe, options, sink: EventSink, control: RunControl | None, state: dict | None):
    from cnn_tui.runner import EXIT_CODES, RunResult, summary_fields  # runner imports this module lazily

    control = control or RunControl()
    if options.dry_run:
        recipe = recipe.model_copy(deep=True)
        recipe.steps = 2
        recipe.multiscale.coarse_steps = 1
    torch.manual_seed(recipe.seed)
    device = pick_device(options.device or recipe.device)
    # ---- everything that can fail on bad input happens before a run directory exists
    levels = plan_levels(recipe.image_size, recipe.steps, recipe.multiscale.levels, recipe.multiscale.coarse_steps)
    content = load_image(recipe.content_image, recipe.image_size, "content_image")
    style = load_image(recipe.style_image, recipe.style_size or recipe.image_size, "style_image")
    net = build_feature_net(recipe.feature_net.name, recipe.feature_net.weights, recipe.feature_net.pooling,
                            recipe.seed)
    wanted = list(dict.fromkeys(recipe.content_layers + recipe.style_layers))
    extractor = FeatureExtractor(net, wanted)
    layers = _layer_rows(recipe, extractor, tuple(content.shape[1:]))
    total, _ = count_params(extractor.layers)
    extractor = extractor.to(device)

    def build(size: int) -> StyleObjective:
        """The objective at one level's size: both images scaled by the same factor."""
        scale = size / recipe.image_size
        level_content = _resized(content, scale).to(device)
        level_style = _resized(style, scale).to(device)
        return StyleObjective(extractor, level_content, level_style, recipe.content_layers, recipe.style_layers,
                              recipe.style_layer_weights, recipe.content_weight, recipe.style_weight,
                              recipe.tv_weight)

    first_content = _resized(content, levels[0].size / recipe.image_size)
    first_style = _resized(style, levels[0].size / recipe.image_size)
    image = initial_image(recipe.init, first_content, first_style, recipe.seed).to(device)
    content, style = content.to(device), style.to(device)
    # ---- the run starts: from here on, everything is recorded
    run_dir = None
    sinks: list[EventSink] = [sink]
    if not options.dry_run:
        run_dir = options.resume or rundir.create_run_dir(options.out, recipe.name)
        if options.resume is None:
            rundir.write_recipe(run_dir, recipe_to_dict(recipe))
        sinks.append(rundir.RunDirSink(run_dir))
    fan = FanOut(*sinks)
    loop = StyleTransfer(recipe, levels, build, image, device, fan, control, run_dir)
    if state is not None:
        loop.load_state_dict(state)
    started_at = time.time()
    height, width = content.shape[-2:]
    fan.emit(RunStarted(
        run_id=run_dir.name if run_dir else "dry-run", recipe_name=recipe.name, kind=recipe.kind,
        device=device.type, device_name=device_name(device), epochs=1, steps_per_epoch=loop.total_steps,
        total_steps=loop.total_steps, batch_size=1, num_train=1, num_val=0, num_classes=0, class_names=[],
        model_name=f"{net.name} to {next(reversed(extractor.layers._modules))} ({width}x{height} px)",
        layers=[{**row, "trainable": 0} for row in layers], total_params=total, trainable_params=0,
        start_step=loop.step, start_epoch=0, resumed=state is not None,
    ))
    if run_dir is not None:
        for tag, picture in (("content", content), ("style", style)):
            save_png(picture, run_dir / "images" / f"{tag}.png")
            fan.emit(Image(step=loop.step, path=f"images/{tag}.png", tag=tag))
    try:
        outcome = loop.run()
    finally:
        fan.close()
    final_png = run_dir is not None and (run_dir / "images" / "final.png").exists()
    summary = summary_fields(
        recipe, outcome.status, outcome.reason, device, run_dir, started_at,
        loop.elapsed + time.time() - loop.segment_start,
        steps=loop.step, steps_planned=loop.total_steps, params=total, best={}, first=outcome.first,
        final=outcome.final, style_loss_drop=_drop(outcome.first, outcome.final),
        loss_evaluations=loop.evaluations,  # this segment's: L-BFGS evaluates ~2 times a step
        final_image="images/final.png" if final_png else None)
    if run_dir is not None:
        rundir.write_summary(run_dir, summary)
    return RunResult(outcome.status, EXIT_CODES[outcome.status], run_dir, summary)


def _resized(image: torch.Tensor, scale: float) -> torch.Tensor:
    """`image` scaled by `scale` (antialiased when shrinking); itself at scale 1."""
    if scale == 1:
        return image
    height, width = (max(1, round(n * scale)) for n in image.shape[-2:])
    return torch.nn.functional.interpolate(image, size=(height, width), mode="bilinear", align_corners=False,
                                           antialias=True).clamp(0, 1)


def _layer_rows(recipe, extractor: FeatureExtractor, shape: tuple[int, ...]) -> list[dict]:
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
    return round(before / after, 3)

