"""A generated ImageFolder of photo-sized JPEGs (500x375, graded backgrounds with grain, one
shape per class at a random place and size): real files in the real format, in the numbers
users bring (tens of thousands), for the streaming and decode-cache cases.

`python -m benchmarks.photo_folder DIR COUNT` writes DIR/<class>/<n>.jpg with 2 processes.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("circle", "square", "triangle", "bar", "ring", "cross", "diamond", "dot", "frame", "wedge")
SIZE = (500, 375)  # the typical size of the photos in the course's cats-and-dogs set


def _photo(cls: int, rng: np.random.Generator) -> Image.Image:
    w, h = SIZE
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, h)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(w, axis=1).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    r = int(rng.integers(h // 8, h // 3))
    cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    box = (cx - r, cy - r, cx + r, cy + r)
    name = CLASSES[cls]
    if name == "circle":
        draw.ellipse(box, fill=colour)
    elif name == "square":
        draw.rectangle(box, fill=colour)
    elif name == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    elif name == "bar":
        draw.rectangle((cx - r, cy - r // 4, cx + r, cy + r // 4), fill=colour)
    elif name == "ring":
        draw.ellipse(box, outline=colour, width=max(4, r // 4))
    elif name == "cross":
        draw.rectangle((cx - r, cy - r // 5, cx + r, cy + r // 5), fill=colour)
        draw.rectangle((cx - r // 5, cy - r, cx + r // 5, cy + r), fill=colour)
    elif name == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)
    elif name == "dot":
        draw.ellipse((cx - r // 3, cy - r // 3, cx + r // 3, cy + r // 3), fill=colour)
    elif name == "frame":
        draw.rectangle(box, outline=colour, width=max(4, r // 4))
    else:
        draw.pieslice(box, 0, 90, fill=colour)
    # texture, as photos have: JPEGs of tens of kB like the course's cats and dogs, not a few kB of gradient
    grain = rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8))


def _write_range(root: str, start: int, stop: int) -> None:
    for index in range(start, stop):
        rng = np.random.default_rng(index)
        cls = index % len(CLASSES)
        _photo(cls, rng).save(Path(root) / CLASSES[cls] / f"{index}.jpg", quality=85)


def write_folder(root: Path, count: int, processes: int = 2) -> Path:
    """root/<class>/<n>.jpg, `count` images in all; skipped if already complete."""
    marker = root / f".complete-{count}"
    if marker.exists():
        return root
    for name in CLASSES:
        (root / name).mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, count, processes * 8 + 1).astype(int)
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_write_range, [str(root)] * (len(bounds) - 1), bounds[:-1], bounds[1:]))
    marker.touch()
    return root


if __name__ == "__main__":
    write_folder(Path(sys.argv[1]), int(sys.argv[2]))
