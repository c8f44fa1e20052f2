"""Grad-CAM (Selvaraju et al. 2017): where in the image the network looked for the class it chose.

The last spatial feature map A (C x h x w) of the network, weighted per channel by the mean
gradient of the class score over the map, summed and rectified:

    cam = relu(sum_c mean_ij(d score / d A_cij) * A_c)

then placed back on the image and scaled to 0..1. "Placed", not stretched: cell (i, j) of the map
is the unit whose receptive field is centred at start + (i, j) x jump px of the input (tracked
through every op, cnn_tui/models/receptive.py), so an unpadded net's map, which covers only the
middle of the image (LeNet-5's 10 x 10 conv2 map: px 6.5..24.5 of 32), is not smeared over the
borders; for padded nets (VGG, ResNet) this is the usual bilinear upsampling.

The map is found by running the model once (`last_spatial_layer`): the rectified output of the
deepest conv layer whose map still has 6 x 6 cells, so it works for any classifier, including a
user's `arch: python` module and a frozen torchvision backbone (the input asks for gradients, so
the map has them even when no weight before it trains).

Written here rather than taken from `pytorch-grad-cam`: that package pulls opencv and matplotlib
into the engine for what is ~40 lines of hooks and one autograd call, it wants the target layer
named by the user, which a recipe-driven run cannot ask for, and it stretches the map over the
image rather than placing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn_tui.models.receptive import Field, FieldTracker


@dataclass
class Cams:
    layer: str  # the module whose output map the heat comes from
    maps: torch.Tensor  # N x H x W, 0..1 (each scaled to its own maximum), on the CPU
    predicted: list[int]
    confidence: list[float]  # softmax probability of the predicted class


MIN_SIDE = 6  # cells per side a map needs to place heat: see last_spatial_layer
INPUT_OF = "input of "  # a layer named "input of X": the map module X is given, made by no module of its own


def last_spatial_layer(model: nn.Module, image: torch.Tensor) -> str | None:
    """The module whose output the heat is taken from: the rectified map of the last conv layer
    whose map has at least MIN_SIDE x MIN_SIDE cells (the last module run after that conv whose
    output is still a map of its size: its batch norm and ReLU, a residual block's ReLU after the
    add; not the pool after it, whose coarser grid smears the heat over the background).

    Why at least 6 x 6 (the paper's maps are 7 x 7 and 14 x 14): Grad-CAM places heat no finer than
    one cell, and bilinear upsampling spreads a cell over its neighbours' half, so on a 3 x 3 (or
    2 x 2) map every cell covers a third (a half) of the image and the heat of any object spreads
    over most of it, whatever the network learned; 4 x 4 is not much better. Measured on the
    shapes (heat density on the shape over the whole image's, 1.0 = uniform): EfficientNet-Lite0
    (ImageNet) features at 96 px, every shape right, its 3 x 3 map 1.05, the 6 x 6 map before it
    1.65; torchvision's ResNet-18 trained at 64 px, its 4 x 4 layer3 1.42, its 8 x 8 layer2 2.19.
    A deeper map is more class-specific, so the deepest one that still has the cells is taken.
    Where no conv map is that large (tiny images), the last conv's; without a conv module, the last
    map with more than one position. None where there is none (a head on precomputed features, an
    image pooled to 1 x 1)."""
    calls: list[tuple[str, object, object, bool]] = []  # (module, its input, its output, a conv?), as run

    def seen(name: str, module: nn.Module, inputs: tuple, out: object) -> None:
        calls.append((name, inputs[0] if inputs else None, out, isinstance(module, nn.Conv2d)))

    handles = _hook_all(model, seen)
    try:
        with torch.no_grad(), _eval(model):
            model(image[:1])
            return _chosen(calls)
    finally:
        for handle in handles:
            handle.remove()


def _side(tensor: object) -> tuple[int, ...] | None:
    return tuple(tensor.shape[-2:]) if isinstance(tensor, torch.Tensor) and _is_map(tensor) else None


def _chosen(calls: list[tuple[str, object, object, bool]]) -> str | None:
    """last_spatial_layer's choice from the modules run: the deepest conv map with MIN_SIDE cells,
    taken as the rest of the network sees it. That is the input of the first module after it that
    makes the map coarser (a pool, the classifier's flatten): the map after a ReLU for VGG, after a
    residual block's add for a ResNet, and the whole concatenation of an Inception or DenseNet
    block, which no module outputs (`torch.cat` in forward), where the last module's output would
    be one branch's channels only. Named "input of X" where no module made that map; where no
    module takes it (a functional pool), the last module's output of its size."""
    maps = [i for i, (_, _, out, _) in enumerate(calls) if _side(out)]
    if not maps:
        return None
    convs = [i for i in maps if calls[i][3]]
    if not convs:
        return calls[maps[-1]][0]
    large = [i for i in convs if min(_side(calls[i][2]) or (0,)) >= MIN_SIDE]
    chosen = large[-1] if large else convs[-1]
    size = _side(calls[chosen][2])
    for consumer, given, out, _ in calls[chosen + 1:]:
        if _side(given) != size or _side(out) == size:
            continue  # another map, or the same grid on: a norm, an activation, the block's next conv
        makers = [name for name, _, made, _ in calls if made is given]
        return makers[-1] if makers else INPUT_OF + consumer
    return [calls[i][0] for i in maps if i >= chosen and _side(calls[i][2]) == size][-1]


def map_module(model: nn.Module, layer: str) -> tuple[nn.Module, bool]:
    """The module whose output (False) or input (True: an "input of X" layer) is the layer's map."""
    modules = dict(model.named_modules())
    return (modules[layer[len(INPUT_OF):]], True) if layer.startswith(INPUT_OF) else (modules[layer], False)


def grad_cam(model: nn.Module, images: torch.Tensor, layer: str,
             classes: list[int] | None = None) -> Cams:
    """The class heatmaps of `images` (N x C x H x W, normalised as the model sees them) for the
    predicted class of each, or for `classes` when given."""
    module, is_input = map_module(model, layer)
    kept: list[torch.Tensor] = []
    fields: list[Field | None] = []

    def keep(_m: nn.Module, inputs: tuple, out: object = None) -> None:
        found = inputs[0] if is_input and inputs else out
        if isinstance(found, torch.Tensor) and _is_map(found):
            kept.append(found)
            fields.append(tracker.field(found))

    handle = module.register_forward_pre_hook(keep) if is_input else module.register_forward_hook(keep)
    try:
        with torch.enable_grad(), _eval(model):
            x = images.detach().float().clone().requires_grad_(True)  # gradients even through a frozen base
            with FieldTracker(x) as tracker:
                logits = model(x).float()
            if not kept:
                raise ValueError(f"the layer '{layer}' gave no map for this input")
            maps = kept[-1]
            chosen = logits.argmax(1) if classes is None else torch.as_tensor(classes, device=logits.device)
            score = logits.gather(1, chosen[:, None]).sum()
            (grads,) = torch.autograd.grad(score, maps)  # no .grad of any weight is touched
    finally:
        handle.remove()
    with torch.no_grad():
        weights = grads.float().mean((2, 3), keepdim=True)
        cam = F.relu((weights * maps.detach().float()).sum(1, keepdim=True))
        cam = place(cam, fields[-1], (images.shape[-2], images.shape[-1]))[:, 0].clamp_min(0)
        peak = cam.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
        cam = cam / peak
        probs = logits.detach().softmax(1)
    return Cams(layer, cam.cpu(), chosen.tolist(), probs.gather(1, chosen[:, None])[:, 0].tolist())


def place(cam: torch.Tensor, field: Field | None, size: tuple[int, int]) -> torch.Tensor:
    """N x 1 x h x w map cells onto the N x 1 x H x W image: pixel p (its centre at p) reads the map
    at (p - start) / jump, bilinearly, the border cells held beyond the outermost centres. Without a
    tracked field, or one whose cells would not lie on the image (an op the tracker does not follow,
    e.g. a resize inside the model), the map is stretched over the whole image, as before."""
    if field is None or not all(-jump <= start and start + (cells - 1) * jump <= pixels - 1 + jump
                                for pixels, cells, start, jump in zip(size, cam.shape[-2:], field.start, field.jump)):
        return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)
    axes = []
    for pixels, cells, start, jump in zip(size, cam.shape[-2:], field.start, field.jump):
        at = (torch.arange(pixels, dtype=torch.float32, device=cam.device) - start) / jump  # in cells
        axes.append((at + 0.5) / cells * 2 - 1)  # grid_sample's coordinates (align_corners=False)
    rows, cols = torch.meshgrid(axes[0], axes[1], indexing="ij")
    grid = torch.stack([cols, rows], -1)[None].expand(len(cam), -1, -1, -1)
    return F.grid_sample(cam, grid.to(cam.dtype), mode="bilinear", padding_mode="border", align_corners=False)


def share_inside(cam: torch.Tensor, mask: torch.Tensor) -> float:
    """The share of a heatmap's mass inside a mask (1.0: all of it): how much it looks at the object."""
    total = float(cam.sum())
    return float((cam * mask.float()).sum()) / total if total > 0 else 0.0


def overlay(pixels: torch.Tensor, cam: torch.Tensor, min_side: int = 64) -> torch.Tensor:
    """3 x H x W uint8: the image in grey, the heat over it in a dark-red-to-yellow ramp (alpha =
    heat), enlarged (nearest) so a 16 px image is still a readable picture."""
    grey = pixels.float().mean(0, keepdim=True).expand(3, -1, -1) / 255
    heat = cam.float()[None]
    ramp = torch.cat([heat.clamp(0, 0.5) * 2, (heat - 0.4).clamp(0, 0.6) / 0.6, (heat - 0.8).clamp(0, 0.2) * 3])
    alpha = heat.clamp(0, 1) * 0.75
    mixed = grey * 0.8 * (1 - alpha) + ramp * alpha
    picture = (mixed.clamp(0, 1) * 255).round().to(torch.uint8)
    scale = max(1, -(-min_side // max(1, min(picture.shape[-2:]))))
    return picture.repeat_interleave(scale, 1).repeat_interleave(scale, 2) if scale > 1 else picture


def _is_map(out: object) -> bool:
    return isinstance(out, torch.Tensor) and out.dim() == 4 and out.shape[-1] * out.shape[-2] > 1


def _hook_all(model: nn.Module, seen) -> list:
    skip = tuple(f"{name}." for name in getattr(model, "training_only", ()))
    handles = []
    for name, module in model.named_modules():
        if name and not name.startswith(skip) and not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(lambda m, i, out, name=name: seen(name, m, i, out)))
    return handles


class _eval:
    """Eval mode for the block (batch norm's running statistics, no dropout), then back."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.was = model, model.training

    def __enter__(self) -> None:
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was)
