"""Decoded images kept on disk, so the second run of a recipe starts without decoding.

The key is everything that determines the pixels: each file's path, size and mtime, the
image size and the colour mode. A changed, added or removed file gives a new key; an
unreadable cache is decoded again. The file is memory-mapped when read back.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from cnn_tui.contract.atomic import STALE_SECONDS, atomic_write, remove_stale_temps
from cnn_tui.data.images import load_images, report_unreadable

CACHE_VERSION = 1


def cache_key(paths: Sequence[str], size: int, grayscale: bool) -> str:
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, size, grayscale]).encode())
    for path in paths:
        try:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}\0missing\n".encode())
    return digest.hexdigest()[:32]


def load_images_cached(paths: Sequence[str], size: int, grayscale: bool, on_corrupt: str, field: str,
                       log: Callable[[str], None], cache_dir: str | None,
                       info: Callable[[str], None] = lambda _m: None) -> tuple[torch.Tensor, list[int]]:
    """`load_images`, through the cache in `cache_dir` (None: no cache). `log` gets warnings
    (unreadable files, an unusable cache), `info` what the cache did."""
    if cache_dir is None:
        return load_images(paths, size, grayscale, on_corrupt, field, log)
    path = Path(cache_dir).expanduser() / f"{cache_key(paths, size, grayscale)}.pt"
    remove_stale_temps(path.parent, older_than=STALE_SECONDS)  # a killed run's half-written cache (GBs)
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            x, kept = state["x"], list(state["kept"])
        except Exception:
            log(f"decoded images: the cache {path} is unreadable; decoding again")
        else:
            report_unreadable(paths, kept, on_corrupt, field, log)
            info(f"decoded images: reused the cache {path} ({len(kept):,} images)")
            return x, kept
    started = time.time()
    x, kept = load_images(paths, size, grayscale, on_corrupt, field, log)
    try:
        atomic_write(path, lambda f: torch.save({"x": x, "kept": kept}, f))
        info(f"decoded {len(kept):,} images in {time.time() - started:.1f} s; cached in {path}")
    except OSError as exc:
        log(f"decoded images: could not write the cache ({exc}); they will be decoded again next time")
    return x, kept
