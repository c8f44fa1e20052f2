"""Any PIL image to 8-bit RGB (or L) the way a person would expect it to look.

PIL's own `convert("RGB")` clips 16-bit and 32-bit grey (PNG `I;16`, TIFF `I`/`F`) at
255 instead of scaling, so a 16-bit scan comes out almost white; and it drops alpha onto
black, so a transparent logo turns into a black square. Both happen to users' files, so
every loader goes through here. No torch: the dashboard may use it too.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WIDE_GREY = {"I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I;16N": 65535.0}


def _wide_grey_to_l(image: Image.Image) -> Image.Image:
    """16-bit or 32-bit grey to 8 bits, scaled by the mode's range (by the data's own range
    for 32-bit int and float images, which have no fixed one)."""
    array = np.asarray(image, dtype=np.float64)
    if image.mode in WIDE_GREY:
        top, bottom = WIDE_GREY[image.mode], 0.0
    else:
        bottom, top = float(np.nanmin(array)), float(np.nanmax(array))
        if bottom >= 0 and top <= 255 and image.mode == "I":
            bottom, top = 0.0, 255.0  # an 8-bit image stored as I: keep its values
        elif bottom >= 0 and top <= 65535 and image.mode == "I":
            bottom, top = 0.0, 65535.0  # 16-bit PNGs are often opened as I
    span = max(top - bottom, 1e-12)
    scaled = np.nan_to_num((array - bottom) / span * 255.0 + 0.5, nan=0.0).clip(0, 255)
    return Image.fromarray(scaled.astype(np.uint8), "L")


def to_mode(image: Image.Image, mode: str = "RGB") -> Image.Image:
    """`image` as "RGB" or "L", 8 bits per channel; transparency is flattened onto white."""
    if image.mode in WIDE_GREY or image.mode in ("I", "F"):
        image = _wide_grey_to_l(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert(mode)  # always a loaded copy: the caller may close the file next
