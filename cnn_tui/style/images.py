"""Content and style images: bundled samples, files on disk, and PNG snapshots.

Images live as float tensors (1, 3, H, W) in [0, 1]; the feature net normalises them
itself, so the optimised image stays in pixel space and clamping keeps it a valid image.

Samples (`sample:NAME`, listed in samples.py) need no network: photos from scikit-image's
package data (CC0 or public domain) and a stained-glass mosaic generated here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from cnn_tui.contract.atomic import atomic_write
from cnn_tui.contract.errors import DataError, RecipeError, write_failed
from cnn_tui.data.image_modes import to_mode
from cnn_tui.style.samples import SAMPLE_PREFIX, SAMPLES, SKIMAGE_SAMPLES

if TYPE_CHECKING:  # PIL is imported where an image is made: not on every import of the engine
    from PIL import Image


def load_image(ref: str, longest_side: int, field: str) -> torch.Tensor:
    """A sample or file, resized so its longer side is `longest_side` pixels (aspect kept)."""
    from PIL import Image

    if ref.startswith(SAMPLE_PREFIX):
        image = sample_image(ref[len(SAMPLE_PREFIX):], field)
    else:
        path = Path(ref)
        if not path.is_file():
            raise RecipeError(f"{field}: {ref}: no such image file (give a path relative to the recipe, "
                              f"or one of {', '.join(SAMPLE_PREFIX + s for s in SAMPLES)})")
        try:
            with Image.open(path) as opened:
                image = to_mode(opened)
        except Exception as exc:  # PIL raises many kinds for a broken file
            raise DataError(f"{field}: {ref}: cannot read this image ({' '.join(str(exc).split())[:80]})") from None
    scale = longest_side / max(image.size)
    size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def sample_image(name: str, field: str) -> Image.Image:
    from PIL import Image

    if name in SKIMAGE_SAMPLES:
        import skimage

        with Image.open(Path(skimage.data.data_dir) / SKIMAGE_SAMPLES[name]) as opened:
            return to_mode(opened)
    if name == "mosaic":
        return mosaic()
    raise RecipeError(f"{field}: unknown sample {SAMPLE_PREFIX}{name} (allowed: "
                      f"{', '.join(SAMPLE_PREFIX + s for s in SAMPLES)})")


def mosaic(size: int = 384, cells: int = 90, seed: int = 7) -> Image.Image:
    """A stained-glass picture: Voronoi cells in a bold palette with dark lead lines."""
    from PIL import Image

    return Image.fromarray(_mosaic_pixels(size, cells, seed))


@functools.lru_cache(maxsize=2)
def _mosaic_pixels(size: int, cells: int, seed: int) -> np.ndarray:
    """Computed once per process (~1 s: every pixel's distance to every cell centre)."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, size, (cells, 2))
    palette = np.array([[230, 57, 70], [241, 196, 15], [29, 53, 87], [69, 123, 157], [42, 157, 143],
                        [244, 162, 97], [131, 56, 236], [255, 255, 255]], dtype=np.float32)
    colours = palette[rng.integers(0, len(palette), cells)]
    ys, xs = np.mgrid[0:size, 0:size]
    grid = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2).astype(np.float32)
    dist = np.linalg.norm(grid - points[None].astype(np.float32), axis=-1)
    nearest = np.argsort(dist, axis=1)[:, :2]
    d0 = np.take_along_axis(dist, nearest[:, :1], axis=1)[:, 0]
    d1 = np.take_along_axis(dist, nearest[:, 1:], axis=1)[:, 0]
    shade = 0.75 + 0.25 * np.clip(1 - d0 / 40.0, 0, 1)  # lighter towards each cell's centre
    image = colours[nearest[:, 0]] * shade[:, None]
    image[(d1 - d0) < 3.0] = (20, 20, 24)  # the lead between the panes
    pixels = image.reshape(size, size, 3).clip(0, 255).astype(np.uint8)
    pixels.flags.writeable = False  # shared by every caller
    return pixels


def to_pil(image: torch.Tensor) -> Image.Image:
    from PIL import Image

    array = (image.detach().float().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(array)


def save_png(image: torch.Tensor, path: Path) -> None:
    """Written atomically: a reader following the run never sees half a PNG."""
    picture = to_pil(image)
    try:
        atomic_write(path, lambda handle: picture.save(handle, format="PNG"))
    except OSError as exc:  # a full disk: one line, the run ends as failed (not a traceback)
        raise write_failed(path, exc, "write the image") from None
