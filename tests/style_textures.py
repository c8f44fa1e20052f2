"""Generated style images for the style-transfer matrix: colours, scales and frequencies
that none of the bundled samples has, written as real files in several formats and modes
(JPEG, palette PNG, RGBA PNG, 16-bit grey PNG) so the loading code meets them too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 160  # px; load_image resizes, so the matrix also tests downscaling


def _grid() -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


def stripes() -> Image.Image:
    """Fine diagonal stripes, 12 px period, crimson on teal: high frequency, two colours."""
    ys, xs = _grid()
    on = ((xs + ys) % 12) < 6
    rgb = np.where(on[..., None], [200, 20, 60], [20, 150, 140]).astype(np.uint8)
    return Image.fromarray(rgb)


def checker() -> Image.Image:
    """A coarse yellow/navy checkerboard (20 px squares), saved as a palette image."""
    ys, xs = _grid()
    on = ((xs // 20 + ys // 20) % 2) == 1
    rgb = np.where(on[..., None], [240, 200, 30], [20, 30, 90]).astype(np.uint8)
    return Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)


def blobs(seed: int = 3) -> Image.Image:
    """Smooth pastel colour clouds: low frequency only, with an alpha channel."""
    rng = np.random.default_rng(seed)
    ys, xs = _grid()
    rgb = np.zeros((SIZE, SIZE, 3), np.float32)
    for _ in range(7):
        cy, cx, r = rng.uniform(0, SIZE, 2).tolist() + [rng.uniform(25, 60)]
        weight = np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r))
        rgb += weight[..., None] * rng.uniform(0.3, 1.0, 3)
    rgb = 255 * rgb / rgb.max()
    alpha = np.full((SIZE, SIZE, 1), 255, np.float32)
    return Image.fromarray(np.concatenate([rgb, alpha], axis=-1).astype(np.uint8), "RGBA")


def speckle(seed: int = 5) -> Image.Image:
    """Grey grain, 2 px blobs of random brightness: a noise-like style, 16-bit grey."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 65535, (SIZE // 2, SIZE // 2)).astype(np.uint16)
    return Image.fromarray(np.kron(small, np.ones((2, 2), np.uint16)))


TEXTURES = {"stripes": (stripes, "jpg"), "checker": (checker, "png"), "blobs": (blobs, "png"),
            "speckle": (speckle, "png")}


def write_texture(name: str, folder: Path) -> Path:
    """The texture as a file in its format; returns the path."""
    make, suffix = TEXTURES[name]
    path = folder / f"{name}.{suffix}"
    image = make()
    image.save(path, quality=92) if suffix == "jpg" else image.save(path)
    return path
