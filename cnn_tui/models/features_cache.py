"""Precomputed features for `mode: precompute`: run the frozen base once over the data and
keep the pooled features on disk, keyed by everything that determines them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from cnn_tui.atomic import atomic_write

CACHE_VERSION = 1


def cache_key(recipe, num_train: int, num_val: int) -> str:
    data = recipe.data.model_dump(mode="json")
    data.pop("augment", None)
    weights = recipe.backbone.weights
    if weights not in ("imagenet", "none") and os.path.isfile(weights):
        stat = os.stat(weights)
        weights = f"{weights}:{stat.st_size}:{stat.st_mtime_ns}"
    identity = {"v": CACHE_VERSION, "data": data, "seed": recipe.seed, "backbone": recipe.backbone.name,
                "weights": weights, "n": [num_train, num_val]}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


@torch.no_grad()
def extract(base: nn.Module, images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
            device: torch.device, batch_size: int = 64) -> torch.Tensor:
    """Pooled features of uint8 images, in eval mode, batch by batch."""
    base.eval()
    mean, std = mean.to(device).view(1, -1, 1, 1), std.to(device).view(1, -1, 1, 1)
    out = []
    for chunk in images.split(batch_size):
        x = (chunk.to(device).float().div_(255.0) - mean) / std
        out.append(base(x).float().cpu())
    return torch.cat(out) if out else torch.zeros(0)


def cached_features(recipe, base: nn.Module, bundle, mean, std, device,
                    log: Callable[[str], None]) -> tuple[torch.Tensor, torch.Tensor]:
    folder = Path(recipe.cache_dir).expanduser()
    path = folder / f"{recipe.backbone.name}-{cache_key(recipe, len(bundle.train_y), len(bundle.val_y))}.pt"
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            log(f"features: reused the cache {path}")
            return state["train"], state["val"]
        except Exception:
            log(f"features: the cache {path} is unreadable; computing again")
    started = time.time()
    train = extract(base, bundle.train_x, mean, std, device)
    val = extract(base, bundle.val_x, mean, std, device)
    count = len(train) + len(val)
    log(f"features: ran the base once over {count} images in {time.time() - started:.1f} s; cached in {path}")
    try:
        atomic_write(path, lambda f: torch.save({"train": train, "val": val}, f))
    except OSError as exc:
        log(f"features: could not write the cache ({exc}); it will be computed again next time")
    return train, val
