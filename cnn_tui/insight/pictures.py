"""Tensors to small PNG pictures: per-tile contrast, a grid with gaps, written atomically.

A grid of maps is how Zeiler & Fergus and every course show activations and filters: each tile
is stretched to its own min..max, since their ranges differ by orders of magnitude.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from cnn_tui.contract.atomic import atomic_write
from cnn_tui.contract.errors import write_failed

MIN_TILE_PX = 12  # tiles smaller than this are enlarged (nearest) so a 2x2 map is still readable
GAP_PX = 1
GAP_VALUE = 40  # dark grey between tiles


def stretch(tiles: torch.Tensor) -> torch.Tensor:
    """N x C x h x w floats -> uint8, each tile scaled to its own min..max (a flat tile is mid-grey)."""
    flat = tiles.detach().float().flatten(1)
    lo, hi = flat.amin(1, keepdim=True), flat.amax(1, keepdim=True)
    span = hi - lo
    scaled = torch.where(span > 0, (flat - lo) / span.clamp_min(1e-12), torch.full_like(flat, 0.5))
    return (scaled * 255).round().to(torch.uint8).view_as(tiles)


def grid(tiles: torch.Tensor, columns: int | None = None) -> torch.Tensor:
    """N x C x h x w uint8 tiles -> C x H x W uint8, `columns` wide (default: as square as it gets)."""
    n, channels, h, w = tiles.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    scale = max(1, math.ceil(MIN_TILE_PX / max(1, min(h, w))))
    if scale > 1:
        tiles = tiles.repeat_interleave(scale, 2).repeat_interleave(scale, 3)
        h, w = h * scale, w * scale
    out = torch.full((channels, rows * (h + GAP_PX) - GAP_PX, columns * (w + GAP_PX) - GAP_PX), GAP_VALUE,
                     dtype=torch.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        out[:, r * (h + GAP_PX):r * (h + GAP_PX) + h, c * (w + GAP_PX):c * (w + GAP_PX) + w] = tiles[i]
    return out


def write_png(picture: torch.Tensor, path: Path) -> None:
    """C x H x W uint8 (1 or 3 channels) -> PNG; a reader never sees half a file (no fsync: a
    lost picture after a power cut costs nothing, an fsync per tile costs every epoch)."""
    from PIL import Image

    array = picture.detach().cpu()
    mode = "L" if array.shape[0] == 1 else "RGB"
    data = array[0].numpy() if mode == "L" else array.permute(1, 2, 0).contiguous().numpy()
    image = Image.fromarray(data, mode=mode)
    try:
        atomic_write(path, lambda handle: image.save(handle, format="PNG"), fsync=False)
    except OSError as exc:  # a full disk: one line, the run ends as failed (not a traceback)
        raise write_failed(path, exc, "write the picture") from None


def thumbnail(image: torch.Tensor, longest: int = 64) -> torch.Tensor:
    """C x H x W uint8, shrunk (area average) so its longer side is at most `longest` px."""
    h, w = image.shape[-2:]
    if max(h, w) <= longest:
        return image
    scale = longest / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = torch.nn.functional.interpolate(image[None].float(), size=size, mode="area")[0]
    return small.round().clamp(0, 255).to(torch.uint8)
