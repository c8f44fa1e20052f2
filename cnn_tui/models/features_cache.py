"""Precomputed features for `mode: precompute`: run the frozen base once over the data and
keep the pooled features on disk, keyed by everything that determines them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn

from cnn_tui.contract.atomic import STALE_SECONDS, atomic_write, remove_stale_temps
from cnn_tui.data.bundle import ImageSet
from cnn_tui.data.stream import uint8_batches
from cnn_tui.data.streams import LEGACY
from cnn_tui.recipes.weights import is_file as is_weights_file

CACHE_VERSION = 2  # 2: splits are train/val/test, each stored with its labels

SPLITS = ("train", "val", "test")


def cache_key(recipe, sizes: list[int], streams: int = LEGACY) -> str:
    data = recipe.data.model_dump(mode="json")
    for how_not_what in ("augment", "loader", "workers", "decode_cache"):
        data.pop(how_not_what, None)
    weights = recipe.backbone.weights
    if is_weights_file(weights) and os.path.isfile(weights):
        stat = os.stat(weights)
        weights = f"{weights}:{stat.st_size}:{stat.st_mtime_ns}"
    identity = {"v": CACHE_VERSION, "data": data, "seed": recipe.seed, "backbone": recipe.backbone.name,
                "weights": weights, "n": sizes}
    if streams != LEGACY:  # splits drawn from the per-purpose streams (the keys of earlier caches unchanged)
        identity["streams"] = streams
    if recipe.backbone.until or recipe.head.pool != "avg":  # other features (keys of earlier caches unchanged)
        identity.update(until=recipe.backbone.until, pool=recipe.head.pool)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


@torch.no_grad()
def extract(base: nn.Module, images: ImageSet, mean: torch.Tensor, std: torch.Tensor,
            device: torch.device, workers: int = 0, batch_size: int = 64) -> ImageSet:
    """Pooled features (and the labels of the images that could be read), in eval mode."""
    base.eval()
    mean, std = mean.to(device).view(1, -1, 1, 1), std.to(device).view(1, -1, 1, 1)
    features, labels = [], []
    for chunk, y in uint8_batches(images, batch_size, workers):
        if len(y) == 0:
            continue
        x = chunk.to(device).float().div_(255.0)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # a grayscale stream into an RGB base
        features.append(base((x - mean) / std).float().cpu())
        labels.append(y)
    if not features:
        return ImageSet(torch.zeros(0, dtype=torch.int64), x=torch.zeros(0))
    return ImageSet(torch.cat(labels), x=torch.cat(features))


def cached_features(recipe, base: nn.Module, bundle, mean, std, device,
                    log: Callable[[str], None]) -> dict[str, ImageSet]:
    """{split: features as an ImageSet} for train, val and (if present) test."""
    sets = {name: getattr(bundle, name) for name in SPLITS if getattr(bundle, name) is not None}
    folder = Path(recipe.cache_dir).expanduser()
    remove_stale_temps(folder, older_than=STALE_SECONDS)  # a killed run's half-written cache
    key = cache_key(recipe, [len(s) for s in sets.values()], bundle.streams)
    path = folder / f"{recipe.backbone.name}-{key}.pt"
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            log(f"features: reused the cache {path}")
            return {name: ImageSet(state[name]["y"], x=state[name]["x"]) for name in sets}
        except Exception:
            log(f"features: the cache {path} is unreadable; computing again")
    started = time.time()
    out = {name: extract(base, images, mean, std, device, recipe.data.workers) for name, images in sets.items()}
    count = sum(len(s) for s in out.values())
    log(f"features: ran the base once over {count} images in {time.time() - started:.1f} s; cached in {path}")
    try:
        atomic_write(path, lambda f: torch.save({n: {"x": s.x, "y": s.y} for n, s in out.items()}, f))
    except OSError as exc:
        log(f"features: could not write the cache ({exc}); it will be computed again next time")
    return out
