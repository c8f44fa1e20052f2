"""Gatys et al.'s objective: content, style (Gram matrices) and total-variation losses.

The targets are computed once: content activations of the content image, Gram matrices
of the style image. Every step then costs one forward pass of the optimised image.

Each term is *relative*: a layer's content (or Gram) error is divided by the mean square
of its target, so a term of 1.0 means "as large as the target itself", whatever the
image, the net or the layer. Raw Gatys losses differ by orders of magnitude between
images and nets (the mosaic's Lite0 style loss starts near 3e3, a photo's can start at
1e6), so one set of weights could not fit every pair; relative ones can. Reported losses
are the weighted terms, so content + style + tv = total.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnn_tui.style.feature_nets import FeatureExtractor

EPS = 1e-12  # a target of all zeros (a dead layer) must not divide by zero


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) channel correlations, divided by C*H*W so that the style
    loss does not depend on the image size or the layer's width."""
    b, c, h, w = features.shape
    if b == 1:  # the style loop's case: a plain mm, forward and backward ~1.5x faster than bmm on CPU
        flat = features.reshape(c, h * w)
        return torch.mm(flat, flat.t()).div(c * h * w).unsqueeze(0)
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (pixels in 0..1): penalises
    high-frequency noise. A photo scores about 0.002-0.02, uniform noise about 0.33."""
    dy = image[:, :, 1:, :] - image[:, :, :-1, :]
    dx = image[:, :, :, 1:] - image[:, :, :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


def relative_mse(value: torch.Tensor, target: torch.Tensor, target_energy: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the target's mean square: 0 at the target, 1 at zero."""
    return F.mse_loss(value, target) / target_energy


@dataclass
class Losses:
    total: torch.Tensor
    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor
    style_layers: dict[str, torch.Tensor]

    def detached(self) -> Losses:
        """The same numbers without the autograd graph, to keep after backward()."""
        return Losses(self.total.detach(), self.content.detach(), self.style.detach(), self.tv.detach(),
                      {n: v.detach() for n, v in self.style_layers.items()})

    def metrics(self) -> dict[str, float]:
        """One device sync for all of them."""
        names = ["loss/total", "loss/content", "loss/style", "loss/tv"] + [f"style/{n}" for n in self.style_layers]
        values = torch.stack([self.total, self.content, self.style, self.tv, *self.style_layers.values()])
        return dict(zip(names, values.detach().float().cpu().tolist()))


class StyleObjective:
    def __init__(self, extractor: FeatureExtractor, content: torch.Tensor, style: torch.Tensor,
                 content_layers: list[str], style_layers: list[str], style_layer_weights: list[float],
                 content_weight: float, style_weight: float, tv_weight: float) -> None:
        self.extractor = extractor
        self.content_layers, self.style_layers = list(content_layers), list(style_layers)
        self.layer_weights = dict(zip(style_layers, style_layer_weights))
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        with torch.no_grad():
            content_features = extractor(content)
            style_features = extractor(style)
        self.content_shape = tuple(content.shape[-2:])  # (H, W) of the images this objective scores
        self.content_targets = {n: content_features[n].detach() for n in content_layers}
        self.style_targets = {n: gram_matrix(style_features[n]).detach() for n in style_layers}
        # the normalisers: each target's mean square, computed once
        self.content_energy = {n: t.pow(2).mean().clamp_min(EPS) for n, t in self.content_targets.items()}
        self.style_energy = {n: t.pow(2).mean().clamp_min(EPS) for n, t in self.style_targets.items()}

    def __call__(self, image: torch.Tensor) -> Losses:
        features = self.extractor(image)
        zero = image.new_zeros(())
        content = sum((relative_mse(features[n], self.content_targets[n], self.content_energy[n])
                       for n in self.content_layers), zero)
        per_layer = {
            n: self.style_weight * self.layer_weights[n]
            * relative_mse(gram_matrix(features[n]), self.style_targets[n], self.style_energy[n])
            for n in self.style_layers
        }
        content = self.content_weight * content
        style = sum(per_layer.values(), zero)
        tv = self.tv_weight * total_variation(image)
        return Losses(content + style + tv, content, style, tv, per_layer)
