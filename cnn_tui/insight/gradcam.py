"""Grad-CAM (Selvaraju et al. 2017): where in the image the network looked for the class it chose.

The last spatial feature map A (C x h x w) of the network, weighted per channel by the mean
gradient of the class score over the map, summed and rectified:

    cam = relu(sum_c mean_ij(d score / d A_cij) * A_c)

then upsampled to the image and scaled to 0..1. The "last spatial map" is found by running the
model once: the output of the last module (in execution order) whose output is a 4-d tensor with
more than one position, so it works for any classifier, including a user's `arch: python` module
and a frozen torchvision backbone (the input asks for gradients, so the map has them even when no
weight before it trains).

Written here rather than taken from `pytorch-grad-cam`: that package pulls opencv, matplotlib and
scikit-learn into the engine for what is ~40 lines of hooks and one autograd call, and it wants
the target layer named by the user, which a recipe-driven run cannot ask for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Cams:
    layer: str  # the module whose output map the heat comes from
    maps: torch.Tensor  # N x H x W, 0..1 (each scaled to its own maximum), on the CPU
    predicted: list[int]
    confidence: list[float]  # softmax probability of the predicted class


def last_spatial_layer(model: nn.Module, image: torch.Tensor) -> str | None:
    """The module whose output the heat is taken from: the last conv layer's rectified map (the
    last module run after the last conv whose output is still a map of the conv's size: its batch
    norm and ReLU, a residual block's ReLU after the add; not the pool after it, whose coarser grid
    smears the heat over the background); without a conv module, the last map with more than one
    position. None where there is none (a head on precomputed features, an image pooled to 1 x 1)."""
    found: list[tuple[str, tuple[int, ...], bool]] = []

    def seen(name: str, module: nn.Module, out: object) -> None:
        if isinstance(out, torch.Tensor) and _is_map(out):
            found.append((name, tuple(out.shape[-2:]), isinstance(module, nn.Conv2d)))

    handles = _hook_all(model, seen)
    try:
        with torch.no_grad(), _eval(model):
            model(image[:1])
    finally:
        for handle in handles:
            handle.remove()
    if not found:
        return None
    convs = [i for i, (_, _, conv) in enumerate(found) if conv]
    if not convs:
        return found[-1][0]
    last, size = convs[-1], found[convs[-1]][1]
    after = [name for name, shape, _ in found[last:] if shape == size]
    return after[-1]


def grad_cam(model: nn.Module, images: torch.Tensor, layer: str,
             classes: list[int] | None = None) -> Cams:
    """The class heatmaps of `images` (N x C x H x W, normalised as the model sees them) for the
    predicted class of each, or for `classes` when given."""
    module = dict(model.named_modules())[layer]
    kept: list[torch.Tensor] = []

    def keep(_m: nn.Module, _i: object, out: object) -> None:
        if _is_map(out):
            kept.append(out)  # type: ignore[arg-type]

    handle = module.register_forward_hook(keep)
    try:
        with torch.enable_grad(), _eval(model):
            x = images.detach().float().clone().requires_grad_(True)  # gradients even through a frozen base
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
        cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0].clamp_min(0)
        peak = cam.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
        cam = cam / peak
        probs = logits.detach().softmax(1)
    return Cams(layer, cam.cpu(), chosen.tolist(), probs.gather(1, chosen[:, None])[:, 0].tolist())


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
            handles.append(module.register_forward_hook(lambda m, _i, out, name=name: seen(name, m, out)))
    return handles


class _eval:
    """Eval mode for the block (batch norm's running statistics, no dropout), then back."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.was = model, model.training

    def __enter__(self) -> None:
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was)
