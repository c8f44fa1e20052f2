"""Which stem a net gets: the ImageNet one (a large strided conv and a pool: 224 px down to 56)
or a small one (a 3x3 conv, stride 1) that leaves 32 px images something to work on."""

from __future__ import annotations

from typing import Any

IMAGENET_FROM_PX = 128  # auto: at this size and above, the papers' own stem


def imagenet_stem(cfg: Any, image_size: int) -> bool:
    if cfg.stem != "auto":
        return bool(cfg.stem == "imagenet")
    return image_size >= IMAGENET_FROM_PX


def scaled(channels: int, scale: float) -> int:
    return max(1, round(channels * scale))
