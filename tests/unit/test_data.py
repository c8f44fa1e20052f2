"""Data sources (with files made here), the split, batches and batched augmentation."""

from __future__ import annotations

import numpy as np
import torch

from cnn_tui.data import shapes
from cnn_tui.data.augment import augment_batch, random_crop
from cnn_tui.data.batches import TensorBatches, channel_stats
from cnn_tui.data.split import split_indices
from cnn_tui.recipes.schema import Augment


def test_shapes_are_seeded_balanced_and_varied():
    x1, y1 = shapes.generate(120, 16, shapes.SHAPE_NAMES, 0.05, seed=1)
    x2, y2 = shapes.generate(120, 16, shapes.SHAPE_NAMES, 0.05, seed=1)
    assert x1.shape == (120, 3, 16, 16) and x1.dtype == np.uint8
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert np.bincount(y1).tolist() == [20] * 6
    assert not np.array_equal(x1, shapes.generate(120, 16, shapes.SHAPE_NAMES, 0.05, seed=2)[0])


def test_shape_masks_differ_by_class():
    u, v = np.meshgrid(np.linspace(-1.2, 1.2, 41), np.linspace(-1.2, 1.2, 41))
    masks = {name: shapes._inside(name, u, v) for name in shapes.SHAPE_NAMES}
    for a in shapes.SHAPE_NAMES:
        for b in shapes.SHAPE_NAMES:
            if a < b:
                assert (masks[a] != masks[b]).mean() > 0.05, (a, b)


def test_split_is_seeded_and_disjoint():
    train, val = split_indices(100, 0.2, seed=4)
    assert len(val) == 20 and len(train) == 80
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert torch.equal(val, split_indices(100, 0.2, seed=4)[1])


def test_random_crop_shifts_each_sample():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    centre = torch.full((2, 2), 0.5)  # offset = padding: no shift
    assert torch.equal(random_crop(x, 1, centre), x)
    # row 0 of `uniform` holds the row offsets of both samples, row 1 the column offsets
    shifted = random_crop(x, 1, torch.tensor([[0.0, 0.99], [0.0, 0.99]]))
    assert torch.equal(shifted[0, 0, 1:, 1:], x[0, 0, :3, :3])  # offset (0, 0): padding top-left
    assert torch.equal(shifted[1, 0, :3, :3], x[1, 0, 1:, 1:])  # offset (2, 2): padding bottom-right
    assert shifted[0, 0, 0].abs().sum() == 0


def test_augmentation_is_reproducible_and_keeps_range():
    cfg = Augment(hflip=True, crop_padding=2, rotation=20, color_jitter=0.3)
    x = torch.rand(8, 3, 16, 16)
    a = augment_batch(x, cfg, torch.Generator().manual_seed(5))
    b = augment_batch(x, cfg, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == x.shape and not torch.equal(a, x)
    assert a.min() >= 0 and a.max() <= 1


def test_batches_cover_the_data_and_normalise():
    x = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    y = torch.arange(50)
    mean, std = channel_stats(x, True)
    train = TensorBatches(x, y, 16, mean, std, torch.device("cpu"), train=True, seed=1)
    val = TensorBatches(x, y, 16, mean, std, torch.device("cpu"), train=False)
    assert len(train) == 3 and len(val) == 4  # train drops the ragged last batch
    labels = torch.cat([b[1] for b in val.epoch(0)])
    assert torch.equal(labels, y)
    first = [b[1] for b in train.epoch(0)]
    assert not torch.equal(torch.cat(first), y[:48])  # shuffled
    assert [torch.equal(a, b) for a, b in zip(first[1:], [b[1] for b in train.epoch(0, start_batch=1)])] == [True, True]
    allx = torch.cat([b[0] for b in val.epoch(0)])
    assert allx.mean().abs() < 0.05 and (allx.std() - 1).abs() < 0.05
