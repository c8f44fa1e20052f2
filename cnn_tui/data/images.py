"""Decode image files into one uint8 tensor: resize the short side, centre-crop to a square."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from cnn_tui.contract.errors import DataError
from cnn_tui.data.image_modes import to_mode

# Pillow decodes images of 89M..179M pixels but warns, in two lines naming its own source file; the
# size is the user's to choose (a scan, a panorama), and above 179M the error below says it in words
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def why_unreadable(exc: BaseException) -> str:
    """One plain reason an image could not be decoded, in words rather than Pillow's internals
    (its UnidentifiedImageError names a file object: `<_io.BufferedReader name=3>`)."""
    if isinstance(exc, Image.DecompressionBombError):
        numbers = [f"{int(n):,}" for n in re.findall(r"\d+", str(exc))[:2]]
        if len(numbers) == 2:
            return f"too large: {numbers[0]} pixels, over Pillow's limit of {numbers[1]} (a decompression-bomb guard)"
        return "too large: over Pillow's limit of pixels (a decompression-bomb guard)"
    if isinstance(exc, UnidentifiedImageError):
        return "no format it knows: JPEG, PNG, BMP, GIF, TIFF, WebP, PPM/PGM; or a damaged file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    return text if len(text) <= 100 else text[:99] + "…"


def open_regular(path: str | Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file; OSError otherwise. Opened without
    blocking and checked on the open descriptor (no race with a stat before): a FIFO named
    x.png would block a plain open() forever, a tty would become the controlling terminal."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket, device or folder)", str(path))
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)  # no effect on a regular file's reads; set back all the same
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def load_image(path: str | Path, size: int, grayscale: bool) -> np.ndarray:
    """One file to a C x size x size uint8 array (raises OSError/ValueError if unreadable)."""
    with open_regular(path) as handle, Image.open(handle) as opened:
        img = to_mode(opened, "L" if grayscale else "RGB")
        scale = size / min(img.size)
        new = (max(size, round(img.width * scale)), max(size, round(img.height * scale)))
        img = img.resize(new, Image.Resampling.BILINEAR)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        img = img.crop((left, top, left + size, top + size))
        array = np.asarray(img, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def load_images(
    paths: Sequence[str],
    size: int,
    grayscale: bool,
    on_corrupt: str,
    field: str,
    log: Callable[[str], None],
) -> tuple[torch.Tensor, list[int]]:
    """All images as N x C x size x size uint8, and the indices kept (corrupt ones skipped).

    Decoding runs in a small thread pool: PIL releases the GIL while decoding.
    """

    def one(path: str) -> np.ndarray | None:
        try:
            return load_image(path, size, grayscale)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
            return None

    pool = ThreadPoolExecutor(max_workers=4)
    try:
        arrays = list(pool.map(one, paths, chunksize=32))
    finally:  # a signal (stopping.StopNow) must not wait here for a worker stuck reading a file
        pool.shutdown(wait=not sys.exc_info()[0], cancel_futures=True)
    kept = [i for i, a in enumerate(arrays) if a is not None]
    report_unreadable(paths, kept, on_corrupt, field, log)
    return torch.from_numpy(np.stack([a for a in arrays if a is not None])), kept


def report_unreadable(paths: Sequence[str], kept: list[int], on_corrupt: str, field: str,
                      log: Callable[[str], None]) -> None:
    """Refuse (on_corrupt: error) or log the files that could not be decoded."""
    kept_set = set(kept)
    bad = [p for i, p in enumerate(paths) if i not in kept_set]
    if bad and on_corrupt == "error":
        raise DataError(
            f"{bad[0]}: cannot read this image ({len(bad)} unreadable in all); remove it, "
            f"or set {field.rsplit('.', 1)[0]}.on_corrupt: skip"
        )
    if bad:
        log(f"skipped {len(bad)} unreadable image(s), e.g. {bad[0]}")
    if not kept:
        raise DataError(f"{field}: none of the {len(paths)} image files could be read")
