"""The data report's image sizes and modes: counted from the headers alone (no pixel decoded), on
generated files of mixed sizes and modes, in `validate --data`'s output."""

from __future__ import annotations

import pytest
from PIL import Image, ImageFile

from cnn_tui.preflight.image_headers import format_headers, read_headers
from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(120)

PLANTED = [  # (mode, size, count, format)
    ("RGB", (32, 32), 5, "PNG"), ("L", (40, 40), 4, "PNG"), ("RGBA", (32, 48), 3, "PNG"),
    ("P", (32, 32), 2, "PNG"), ("CMYK", (64, 64), 1, "JPEG"), ("I;16", (32, 32), 1, "PNG"),
]


def _mixed(folder):
    files = []
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
    for mode, size, count, kind in PLANTED:
        for i in range(count):
            path = folder / ("a" if i % 2 else "b") / f"{mode.replace(';', '')}{i}.{kind.lower()}"
            Image.new(mode, size).save(path, kind)
            files.append(str(path))
    broken = folder / "a" / "broken.png"
    broken.write_bytes(b"not an image")
    return files + [str(broken)]


def test_sizes_and_modes_from_the_headers_alone(tmp_path, monkeypatch):
    files = _mixed(tmp_path / "mixed")

    def no_decoding(self, *args):
        raise AssertionError("decoded pixels: the report must read headers only")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)  # the decoder of every file format
    found = read_headers(files, 32, "RGB", workers=2)
    assert found.files == 17 and found.unreadable == 1
    assert found.resized == 4 + 3 + 1 and found.cropped == 3  # the 40x40, 32x48 and 64x64 files
    assert found.converted == {"L": 4, "RGBA": 3, "P": 2, "CMYK": 1, "I;16": 1}
    text = format_headers(found.as_dict())
    assert "sizes: 8 of 16 files resized to 32x32 (3 not square: centre-cropped)" in text
    assert "modes: 11 converted to RGB (4 from L, 3 from RGBA, 2 from P" in text and "1 from CMYK" in text
    assert "smallest 32x32, largest 64x64" in text


def test_validate_data_prints_them(capsys, tmp_path):
    _mixed(tmp_path / "mixed")
    (tmp_path / "mixed" / "a" / "broken.png").unlink()
    recipe = tmp_path / "mixed.yaml"
    recipe.write_text(f"kind: scratch\nname: mixed\ndevice: cpu\ndata: {{dataset: image_folder, path: "
                      f"{tmp_path / 'mixed'}, image_size: 32, grayscale: true, val_split: 0.3}}\n"
                      "model: {arch: vgg, vgg_config: [4, M]}\ntrain: {epochs: 1, batch_size: 4}\n")
    done = run_here(capsys, "validate", str(recipe), "--data")
    assert done.returncode == 0, done.stderr
    assert "sizes: 8 of 16 files resized to 32x32" in done.stdout, done.stdout
    assert "modes: 12 converted to L (5 from RGB, 3 from RGBA" in done.stdout, done.stdout


def test_built_in_data_says_it_has_no_files(capsys):
    done = run_here(capsys, "validate", "scratch_cnn", "--data")
    assert done.returncode == 0 and "sizes: shapes images are made" in done.stdout
