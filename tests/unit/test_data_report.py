"""validate --data: every planted copy (exact, resized, re-encoded JPEG) of a training image in
the validation folder is found, and none on the built-in data."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.dataset_files import image_tree
from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(180)

RECIPE = """\
kind: scratch
name: leaky
device: cpu
data: {{dataset: image_folder, train_path: {train}, val_path: {val}, image_size: 32}}
model: {{arch: vgg, vgg_config: [4, M]}}
train: {{epochs: 1, batch_size: 8}}
"""


def _planted(tmp_path):
    train = image_tree(tmp_path / "train", {"a": 20, "b": 20}, size=(40, 40), seed=1)
    val = image_tree(tmp_path / "val", {"a": 6, "b": 6}, size=(40, 40), seed=2)
    sources = [train / "a" / "0.png", train / "a" / "1.png", train / "b" / "2.png"]
    (val / "a" / "exact.png").write_bytes(sources[0].read_bytes())
    Image.open(sources[1]).resize((64, 64)).save(val / "a" / "resized.png")
    buffer = io.BytesIO()
    Image.open(sources[2]).save(buffer, "JPEG", quality=80)
    (val / "b" / "reencoded.jpg").write_bytes(buffer.getvalue())
    return train, val


def test_every_planted_copy_is_found(capsys, tmp_path):
    train, val = _planted(tmp_path)
    recipe = tmp_path / "leaky.yaml"
    recipe.write_text(RECIPE.format(train=train, val=val))
    done = run_here(capsys, "validate", str(recipe), "--data")
    assert done.returncode == 0, done.stderr
    assert "leakage: val shares 1 exact and 2 near copies" in done.stdout, done.stdout
    assert "diagnosis:" in done.stdout and "warning:" in done.stderr
    assert "train: 40 images: a 20, b 20" in done.stdout
    # the examples name the files, also when the folder is decoded into memory (not streamed)
    assert f"{train / 'a' / '0.png'} = {val / 'a' / 'exact.png'} (exact)" in done.stdout, done.stdout
    assert f"{val / 'b' / 'reencoded.jpg'} (near)" in done.stdout, done.stdout


def test_no_false_copies_on_the_built_in_data(capsys):
    done = run_here(capsys, "validate", "scratch_cnn", "--data")
    assert done.returncode == 0, done.stderr
    assert "leakage: none between train and val" in done.stdout, done.stdout
    assert "warning" not in done.stderr
