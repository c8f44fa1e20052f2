"""Augmentation on whole batches of float tensors in [0, 1], on the batch's device: flips
(horizontal, vertical), a random crop of a zero-padded image, rotation, brightness/contrast
jitter, then Gaussian pixel noise, each only when the recipe's `data.augment` turns it on.

One random draw per sample, from a generator the caller seeds per batch, so a resumed
run sees exactly the augmentations an uninterrupted one would. A data-parallel rank holds a
slice of the global batch (`window`): it draws for the whole batch and keeps its slice, so N
processes augment exactly as one process with the N-times larger batch would.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_batch(x: torch.Tensor, cfg, generator: torch.Generator,
                  window: tuple[int, int] | None = None) -> torch.Tensor:
    """`window`: (offset of x in the global batch, size of the global batch); None: x is all of it."""
    batch = x.shape[0]
    offset, drawn = window or (0, batch)

    def rand(*shape: int) -> torch.Tensor:
        draws = torch.rand(*shape[:-1], drawn, generator=generator, device=generator.device)
        return draws[..., offset:offset + batch].to(x.device)

    if cfg.hflip:
        flip = (rand(batch) < 0.5).view(-1, 1, 1, 1)
        x = torch.where(flip, x.flip(3), x)
    if cfg.vflip:
        flip = (rand(batch) < 0.5).view(-1, 1, 1, 1)
        x = torch.where(flip, x.flip(2), x)
    if cfg.crop_padding > 0:
        x = random_crop(x, cfg.crop_padding, rand(2, batch))
    if cfg.rotation > 0:
        angles = (rand(batch) * 2 - 1) * math.radians(cfg.rotation)
        cos, sin = angles.cos(), angles.sin()
        zeros = torch.zeros_like(cos)
        theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.color_jitter > 0:
        strength = cfg.color_jitter
        brightness = 1 + (rand(batch) * 2 - 1).view(-1, 1, 1, 1) * strength
        contrast = 1 + (rand(batch) * 2 - 1).view(-1, 1, 1, 1) * strength
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = ((x - mean) * contrast + mean) * brightness
        x = x.clamp(0.0, 1.0)
    if cfg.noise > 0:
        x = (x + gaussian_noise(x, cfg.noise, generator, offset, drawn)).clamp_(0.0, 1.0)
    return x


def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator, offset: int, drawn: int) -> torch.Tensor:
    """N(0, std) per pixel, on x's device. Each sample of the global batch gets its own seed from
    the batch's generator, so a rank holding samples offset.. draws exactly their noise without
    drawing (and holding) the whole global batch's."""
    seeds = torch.randint(0, 2**62, (drawn,), generator=generator, device=generator.device)
    out = torch.empty_like(x)
    for i, seed in enumerate(seeds[offset:offset + x.shape[0]].tolist()):
        sample = torch.Generator(device=x.device).manual_seed(seed)
        out[i] = torch.randn(x.shape[1:], generator=sample, device=x.device, dtype=x.dtype)
    return out.mul_(std)


def random_crop(x: torch.Tensor, padding: int, uniform: torch.Tensor) -> torch.Tensor:
    """Zero-pad by `padding` and crop back at a random offset per sample, without a loop."""
    batch, channels, height, width = x.shape
    padded = F.pad(x, (padding,) * 4)
    offsets = (uniform * (2 * padding + 1)).long().clamp_(max=2 * padding)
    rows = offsets[0].view(-1, 1) + torch.arange(height, device=x.device)
    cols = offsets[1].view(-1, 1) + torch.arange(width, device=x.device)
    b = torch.arange(batch, device=x.device).view(-1, 1, 1, 1)
    c = torch.arange(channels, device=x.device).view(1, -1, 1, 1)
    return padded[b, c, rows.view(batch, 1, height, 1), cols.view(batch, 1, 1, width)]
