"""Users' files come in every PIL mode: each must look as it would in an image viewer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnn_tui.data.image_modes import to_mode
from cnn_tui.style.images import load_image


def ramp16() -> np.ndarray:
    """A left-to-right ramp over the whole 16-bit range."""
    return np.tile(np.linspace(0, 65535, 64), (8, 1)).astype(np.uint16)


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path, mode):
    path = tmp_path / "ramp.png"
    Image.fromarray(ramp16()).save(path)  # a 16-bit PNG; PIL reopens it as I;16 or I
    with Image.open(path) as opened:
        image = opened if opened.mode == mode else opened.convert(mode)
        rgb = np.asarray(to_mode(image))
    row = rgb[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert abs(row[32] - 130) <= 2  # the middle of the ramp is mid-grey, not white
    assert (np.diff(row) >= 0).all()


def test_float_images_use_their_own_range():
    data = np.linspace(-1.0, 3.0, 64, dtype=np.float32).reshape(8, 8)
    grey = np.asarray(to_mode(Image.fromarray(data, "F"), "L")).astype(int)
    assert grey.min() == 0 and grey.max() == 255


def test_transparency_is_flattened_onto_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200  # red where opaque
    rgba[:2, :, 3] = 255  # the top half opaque, the bottom transparent
    rgb = np.asarray(to_mode(Image.fromarray(rgba, "RGBA")))
    assert tuple(rgb[0, 0]) == (200, 0, 0) and tuple(rgb[3, 3]) == (255, 255, 255)
    palette = Image.fromarray(rgba, "RGBA").convert("P")
    palette.info["transparency"] = palette.getpixel((3, 3))
    assert tuple(np.asarray(to_mode(palette))[3, 3]) == (255, 255, 255)


def test_cmyk_grey_and_palette_become_rgb_of_the_same_size():
    for mode in ("CMYK", "L", "LA", "P", "1"):
        image = Image.new("RGB", (7, 5), (10, 120, 250)).convert(mode)
        out = to_mode(image)
        assert out.mode == "RGB" and out.size == (7, 5)


def test_the_style_loader_reads_a_sixteen_bit_file_as_a_ramp(tmp_path):
    path = tmp_path / "ramp.png"
    Image.fromarray(ramp16()).save(path)
    tensor = load_image(str(path), 64, "style_image")
    assert tensor.shape == (1, 3, 8, 64)
    assert 0.4 < float(tensor.mean()) < 0.6  # before the fix: 0.99, a white picture
