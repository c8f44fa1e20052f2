"""The built-in offline dataset: coloured shapes at random positions, sizes and rotations.

Generated from a seed in well under a second, so it ships as code instead of files.
The task is genuinely visual: colour, size, position and rotation carry no label
information, only the outline does, and pixel noise keeps it from being trivial.
"""

from __future__ import annotations

import numpy as np

SHAPE_NAMES = ("circle", "square", "triangle", "cross", "ring", "semicircle")


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mask of points (in the shape's own rotated, unit-radius frame) inside the shape."""
    r2 = u * u + v * v
    if shape == "circle":
        return r2 <= 1.0
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if shape == "triangle":  # equilateral, vertices at radius 1
        return (v >= -0.5) & (v <= 1.0 - np.sqrt(3.0) * np.abs(u))
    if shape == "cross":
        return ((np.abs(u) <= 0.3) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= 0.3) & (np.abs(u) <= 1.0))
    if shape == "ring":
        return (r2 <= 1.0) & (r2 >= 0.55**2)
    if shape == "semicircle":
        return (r2 <= 1.0) & (v >= -0.1)
    raise ValueError(f"unknown shape {shape!r}")


def generate(
    count: int, size: int, classes: tuple[str, ...] | list[str], noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """`count` RGB images (uint8, N x 3 x size x size) and balanced integer labels."""
    images, labels, _ = generate_with_masks(count, size, classes, noise, seed)
    return images, labels


def generate_with_masks(
    count: int, size: int, classes: tuple[str, ...] | list[str], noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`generate`'s images and labels, and where each shape is (bool, N x size x size): the ground
    truth a class heatmap is measured against (the same seed draws the same images)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % len(classes)).astype(np.int64)
    images = np.empty((count, 3, size, size), dtype=np.uint8)
    masks = np.empty((count, size, size), dtype=bool)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    chunk = 512
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        radius = rng.uniform(0.22, 0.42, n).astype(np.float32) * size
        cx = rng.uniform(radius, size - radius).astype(np.float32)
        cy = rng.uniform(radius, size - radius).astype(np.float32)
        theta = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
        dx = xs[None] - cx[:, None, None]
        dy = ys[None] - cy[:, None, None]
        cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        u = (dx * cos + dy * sin) / radius[:, None, None]
        v = (-dx * sin + dy * cos) / radius[:, None, None]
        mask = np.zeros((n, size, size), dtype=bool)
        chunk_labels = labels[start:start + n]
        for index, shape in enumerate(classes):
            sel = chunk_labels == index
            if sel.any():
                mask[sel] = _inside(shape, u[sel], v[sel])
        dark = rng.uniform(0.0, 0.45, (n, 3, 1, 1)).astype(np.float32)
        light = rng.uniform(0.55, 1.0, (n, 3, 1, 1)).astype(np.float32)
        swap = rng.random((n, 1, 1, 1)) < 0.3  # sometimes a dark shape on a light ground
        background, foreground = np.where(swap, light, dark), np.where(swap, dark, light)
        img = np.where(mask[:, None], foreground, background)
        img = img + rng.normal(0.0, noise, img.shape).astype(np.float32)
        images[start:start + n] = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
        masks[start:start + n] = mask
    return images, labels, masks
