"""Vertical flips and Gaussian noise as augmentations, and `cnn-tui augment`: the grid of one
training image's augmentations, written as a PNG without overwriting anything."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.data.augment import augment_batch
from cnn_tui.data.batches import BatchPrep
from cnn_tui.recipes.schema import Augment

pytestmark = pytest.mark.timeout(120)


def test_vflip_flips_top_to_bottom_about_half_the_time():
    x = torch.rand(64, 3, 5, 5)
    out = augment_batch(x, Augment(vflip=True), torch.Generator().manual_seed(1))
    flipped = [torch.equal(o, i.flip(1)) for o, i in zip(out, x)]
    kept = [torch.equal(o, i) for o, i in zip(out, x)]
    assert all(f != k for f, k in zip(flipped, kept))  # each image is either flipped upside down or kept
    assert 16 < sum(flipped) < 48


def test_noise_has_the_recipes_std_and_leaves_the_other_draws_as_they_were():
    x = torch.full((16, 3, 32, 32), 0.5)
    noisy = augment_batch(x, Augment(noise=0.1), torch.Generator().manual_seed(2))
    assert (noisy - x).std().item() == pytest.approx(0.1, rel=0.05) and abs((noisy - x).mean()) < 0.005
    assert torch.equal(noisy, augment_batch(x, Augment(noise=0.1), torch.Generator().manual_seed(2)))
    assert not torch.equal(noisy, augment_batch(x, Augment(noise=0.1), torch.Generator().manual_seed(3)))
    assert noisy.min() >= 0 and noisy.max() <= 1
    base = Augment(hflip=True, crop_padding=2, rotation=10)  # noise is drawn last: the rest is unchanged
    y = torch.rand(8, 3, 16, 16) * 0.2 + 0.4
    plain = augment_batch(y, base, torch.Generator().manual_seed(4))
    with_noise = augment_batch(y, base.model_copy(update={"noise": 1e-4}), torch.Generator().manual_seed(4))
    assert torch.allclose(plain, with_noise, atol=1e-3)


@pytest.mark.parametrize("fields", [{"noise": 0.05}, {"vflip": True}])
def test_noise_or_vflip_alone_turns_training_augmentation_on(fields):
    cfg = Augment(**fields)
    assert cfg.in_words() in (["noise 0.05"], ["vflip"])
    prep = BatchPrep(torch.zeros(3), torch.ones(3), torch.device("cpu"), train=True, augment=cfg)
    batch = torch.full((4, 3, 8, 8), 128, dtype=torch.uint8)
    batch[:, :, 0] = 0  # a dark top row, so a vertical flip shows
    assert not torch.equal(prep(batch, epoch=0, index=0), batch.float() / 255)


def test_noise_and_vflip_train_an_epoch_and_change_what_the_net_sees(load_tiny, tmp_path):
    """The issue's "trains one epoch offline": through the whole loop, and the training loss moves
    off the un-augmented run's (same seed), so the loop really applies them."""
    from tests.helpers import of_type, run_collect

    losses = {}
    for name, fields in {"none": [], "both": ["data.augment.noise=0.1", "data.augment.vflip=true"]}.items():
        result, events = run_collect(load_tiny("train.epochs=1", *fields), tmp_path / name)
        assert result.status == "completed"
        (epoch,) = of_type(events, "epoch")
        losses[name] = epoch.metrics["train/loss"]
    assert losses["both"] == losses["both"] and losses["both"] != losses["none"], losses


# ------------------------------------------------------------------ cnn-tui augment

@pytest.fixture
def augment_cli(tiny_recipe_path, capsys):
    from cnn_tui.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["augment", str(tiny_recipe_path), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_augment_writes_a_grid_of_the_image_and_its_draws(augment_cli, tmp_path):
    import numpy as np
    from PIL import Image

    from cnn_tui.data.augment_grid import FRAME_PX, MIN_TILE_PX

    target = tmp_path / "grid.png"
    code, out, err = augment_cli("--out", str(target), "--set", "data.augment.vflip=true",
                                 "--set", "data.augment.noise=0.1", "--index", "2")
    assert code == 0, err
    assert out.startswith(f"wrote {target}: training image 2 (") and "then 15 draws of vflip, noise 0.1" in out
    tile = (MIN_TILE_PX // 16) * 16 + 2 * FRAME_PX  # 16 px images enlarged x6, framed
    with Image.open(target) as image:
        assert image.size == (4 * tile + 3, 4 * tile + 3)  # original + 15 draws, 1 px gaps
        pixels = torch.from_numpy(np.asarray(image).copy())
    first, second = pixels[:tile, :tile], pixels[:tile, tile + 1:2 * tile + 1]
    assert not torch.equal(first, second)  # the draws differ from the original
    again = tmp_path / "again.png"
    augment_cli("--out", str(again), "--set", "data.augment.vflip=true", "--set", "data.augment.noise=0.1",
                "--index", "2")
    assert again.read_bytes() == target.read_bytes()  # seeded by the recipe: the same grid every time


def test_augment_refuses_to_overwrite_and_bad_values_with_one_line(augment_cli, tmp_path):
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"the user's own picture")
    cases = [
        (("--out", str(mine), "--set", "data.augment.vflip=true"), f"--out: {mine} exists; choose another path"),
        (("--out", str(mine), "--set", "data.augment.vflip=true", "--force"),
         f"--out: {mine} is not a grid cnn-tui augment wrote; nothing was changed"),
        (("--out", str(tmp_path / "a.png")), "data.augment: recipe 'tiny' turns no augmentation on; allowed: hflip"),
        (("--out", str(tmp_path / "a.jpg"), "--set", "data.augment.vflip=true"),
         "--out: " + str(tmp_path / "a.jpg") + " is not allowed; allowed: a file name ending in .png"),
        (("--out", str(tmp_path / "a.png"), "--set", "data.augment.vflip=true", "--index", "96"),
         "--index: 96 is not allowed; allowed: 0 to "),
        (("--out", str(tmp_path / "a.png"), "--set", "data.augment.noise=-1"), "data.augment.noise: "),
        (("--out", str(tmp_path / "mine.png" / "a.png"), "--set", "data.augment.vflip=true"),
         f"{tmp_path / 'mine.png' / 'a.png'}: could not write the grid ("),  # a file where a folder should be
    ]
    for args, words in cases:
        code, out, err = augment_cli(*args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and words in lines[0], (args, err)
    assert mine.read_bytes() == b"the user's own picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.png", "tiny.yaml"]  # nothing half-written
    ours = tmp_path / "ours.png"
    assert augment_cli("--out", str(ours), "--set", "data.augment.vflip=true")[0] == 0
    before = ours.read_bytes()
    code, out, err = augment_cli("--out", str(ours), "--set", "data.augment.hflip=true", "--force")
    assert code == 0 and ours.read_bytes().startswith(b"\x89PNG") and ours.read_bytes() != before
