"""The leakage fingerprints of a split read from image files, cached beside the decoded images
(data/decode_cache.py), so a second `validate --data` (or a run's leakage check) on a large folder
reads 16 bytes and a 16x16 thumbnail per image instead of decoding every file again.

The key is the decode cache's: each file's path, size and mtime, the image size and the colour
mode (a changed, added or removed file gives a new key). A split held in memory and decoded from
files is cached the same way: hashing 20,000 decoded 96 px images took a second run ~2 s of the
~6 s it needs to its first step (benchmarks case 9). Hashing streams batch by batch either way, so
memory stays one batch plus the thumbnails (1 KB an image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cnn_tui.contract.atomic import atomic_write
from cnn_tui.data.decode_cache import cache_key
from cnn_tui.preflight.leakage import THUMB, Fingerprints, fingerprint

SUFFIX = ".prints.pt"


def prints_path(images: Any, cache_dir: str | None) -> Path | None:
    """Where a split's fingerprints are kept: by the files it streams, or those its images in memory
    were decoded from (the same files, size and mode give the same pixels). None: no cache, or images
    that are not a plain decode of files (a built-in dataset, grey images widened to RGB)."""
    if cache_dir is None:
        return None
    files = images.files if images.streamed else images.names
    if files is None or not images.image_size:
        return None
    return Path(cache_dir).expanduser() / f"{cache_key(files, images.image_size, images.grayscale)}{SUFFIX}"


def is_cached(images: Any, cache_dir: str | None) -> bool:
    path = prints_path(images, cache_dir)
    return path is not None and path.is_file()


def split_prints(images: Any, workers: int, cache_dir: str | None) -> Fingerprints:
    """One split's fingerprints: from the cache if there, else computed (and cached if streamed)."""
    from cnn_tui.data.stream import uint8_batches

    path = prints_path(images, cache_dir)
    if path is not None and path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            digests, thumbs = state["digests"], state["thumbs"]
            return Fingerprints([bytes(row.tolist()) for row in digests], [thumbs.reshape(-1, THUMB * THUMB)])
        except Exception:
            pass  # unreadable (an older format, a cut-off file): computed again and rewritten
    prints = fingerprint(uint8_batches(images, 256, workers))
    if path is not None:
        digests = torch.tensor([list(d) for d in prints.digests], dtype=torch.uint8).reshape(-1, 16)
        try:
            atomic_write(path, lambda f: torch.save({"digests": digests, "thumbs": prints.matrix()}, f))
        except OSError:
            pass  # a read-only cache folder: computed again next time, nothing lost
    return prints
