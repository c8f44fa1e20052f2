"""The picture behind `cnn-tui augment` (and the picker's `a` key): one training image and what the recipe's
`data.augment` makes of it, as a PNG grid (the original top-left, then one draw per tile).

The draws are the trainer's own (cnn_tui/data/augment.py, on a batch of copies of the image,
from a generator seeded by the recipe's seed), so what the grid shows is what training sees:
a learner sees that a vertically flipped 6 becomes a 9 before spending an epoch on it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from cnn_tui.contract.errors import UsageError

MIN_TILE_PX = 96  # small images are enlarged (nearest: pixels stay pixels) to at least this
MAX_DRAWS = 63
FRAME_PX, FRAME_VALUE = 2, 160  # a light grey frame around each tile


def augment_grid(recipe, index: int, draws: int) -> tuple[torch.Tensor, str]:
    """(C x H x W uint8 grid, a line saying what it shows) for the training image `index`."""
    from cnn_tui.data.augment import augment_batch
    from cnn_tui.data.sources import load_data
    from cnn_tui.insight.pictures import grid

    cfg = recipe.data.augment
    if not cfg.in_words():
        raise UsageError(f"data.augment: recipe '{recipe.name}' turns no augmentation on; "
                         "allowed: hflip, vflip, crop_padding, rotation, color_jitter, noise "
                         "(e.g. --set data.augment.vflip=true)")
    if not 1 <= draws <= MAX_DRAWS:
        raise UsageError(f"--draws: {draws} is not allowed; allowed: 1 to {MAX_DRAWS}")
    bundle = load_data(recipe.data, recipe.seed)
    count = len(bundle.train)
    if not 0 <= index < count:
        raise UsageError(f"--index: {index} is not allowed; allowed: 0 to {count - 1} "
                         f"(the {count} training images)")
    image = bundle.train.head(index + 1)[index:index + 1]
    copies = image.float().div(255.0).expand(draws, -1, -1, -1).contiguous()
    generator = torch.Generator().manual_seed(recipe.seed)
    augmented = augment_batch(copies, cfg, generator).mul(255.0).round().clamp(0, 255).to(torch.uint8)
    tiles = torch.cat([image, augmented])
    scale = max(1, -(-MIN_TILE_PX // max(1, min(tiles.shape[-2:]))))
    tiles = tiles.repeat_interleave(scale, 2).repeat_interleave(scale, 3)
    tiles = torch.nn.functional.pad(tiles, (FRAME_PX,) * 4, value=FRAME_VALUE)  # dark images need a frame
    label = bundle.class_names[int(bundle.train.y[index])]
    what = (f"training image {index} ({label}) top-left, then {draws} draws of "
            f"{', '.join(cfg.in_words())}")
    return grid(tiles), what


MARK = ("Software", "cnn-tui augment")  # a PNG text chunk: --force replaces only a grid this command wrote


def write_augment_grid(recipe, out: Path | None, index: int, draws: int, force: bool,
                       say: Callable[[str], None]) -> int:
    if not hasattr(recipe, "data"):
        raise UsageError(f"augment: recipe '{recipe.name}' (kind {recipe.kind}) has no data.augment")
    target = out if out is not None else Path(f"augment-{recipe.name}.png")
    if target.suffix.lower() != ".png":
        raise UsageError(f"--out: {target} is not allowed; allowed: a file name ending in .png")
    _check_target(target, force)  # before the data are loaded, not after
    picture, what = augment_grid(recipe, index, draws)
    _write_marked_png(picture, target)
    say(f"wrote {target}: {what}")
    return 0


def _check_target(target: Path, force: bool) -> None:
    """A new path, or (with --force) a grid this command wrote: never the user's own picture."""
    if target.is_dir():
        raise UsageError(f"--out: {target} is a folder; give a file name ending in .png")
    if not os.path.lexists(target):
        return
    if not force:
        raise UsageError(f"--out: {target} exists; choose another path, or add --force to replace a grid "
                         "that cnn-tui augment wrote")
    if target.is_symlink() or not _written_here(target):
        raise UsageError(f"--out: {target} is not a grid cnn-tui augment wrote; nothing was changed; "
                         "choose another path")


def _written_here(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get(MARK[0]) == MARK[1]
    except (OSError, ValueError):
        return False


def _write_marked_png(picture: torch.Tensor, path: Path) -> None:
    from PIL import Image, PngImagePlugin

    from cnn_tui.contract.atomic import atomic_write
    from cnn_tui.contract.errors import write_failed

    array = picture.detach().cpu()
    data = array[0].numpy() if array.shape[0] == 1 else array.permute(1, 2, 0).contiguous().numpy()
    image = Image.fromarray(data, mode="L" if array.shape[0] == 1 else "RGB")
    info = PngImagePlugin.PngInfo()
    info.add_text(*MARK)
    try:
        atomic_write(path, lambda handle: image.save(handle, format="PNG", pnginfo=info))
    except OSError as exc:
        raise write_failed(path, exc, "write the grid") from None
