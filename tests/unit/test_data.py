"""Data sources (with files made here), the split, batches and batched augmentation."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_tui.data import shapes
from cnn_tui.data.augment import augment_batch, random_crop
from cnn_tui.data.batches import TensorBatches, channel_stats
from cnn_tui.data.sources import load_data
from cnn_tui.data.split import split_indices
from cnn_tui.errors import DataError, DataUnavailableError
from cnn_tui.recipes.schema import Augment, Data


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


# ------------------------------------------------------------------ torchvision sources, from files made here

def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_mnist(root: Path, n: int = 60) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 2051)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049)


def test_mnist_loads_from_its_raw_files(tmp_path):
    fake_mnist(tmp_path)
    data = Data(dataset="mnist", root=str(tmp_path), download=False, image_size=28, val_split=0.25)
    bundle = load_data(data, seed=0)
    assert bundle.train_x.shape == (45, 1, 28, 28) and bundle.val_x.shape == (15, 1, 28, 28)
    assert bundle.class_names[0].startswith("0")


def test_mnist_resized_to_the_recipe_size(tmp_path):
    fake_mnist(tmp_path)
    bundle = load_data(Data(dataset="mnist", root=str(tmp_path), download=False, image_size=16), seed=0)
    assert bundle.train_x.shape[1:] == (1, 16, 16) and bundle.train_x.dtype == torch.uint8


def test_cifar10_loads_from_its_batches(tmp_path, monkeypatch):
    import pickle

    import torchvision.datasets as tvd

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": [0, 1, 2, 3]}, handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, handle)
    import torchvision.datasets.cifar as cifar_module

    monkeypatch.setattr(tvd.CIFAR10, "_check_integrity", lambda self: True)  # md5s are for the real files
    monkeypatch.setattr(cifar_module, "check_integrity", lambda *a, **k: True)
    bundle = load_data(Data(dataset="cifar10", root=str(tmp_path), download=False, val_split=0.25), seed=0)
    assert bundle.train_x.shape == (15, 3, 32, 32) and bundle.class_names[:2] == ["c0", "c1"]


def test_missing_download_offline_is_one_clear_line(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as mnist_module

    def no_network(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(mnist_module, "download_and_extract_archive", no_network)
    with pytest.raises(DataUnavailableError) as info:
        load_data(Data(dataset="mnist", root=str(tmp_path), download=True), seed=0)
    message = str(info.value)
    assert "\n" not in message and "MNIST is not in" in message and "internet" in message
    with pytest.raises(DataUnavailableError, match="data.dataset: MNIST is not in"):
        load_data(Data(dataset="mnist", root=str(tmp_path), download=False), seed=0)


# ------------------------------------------------------------------ ImageFolder

def image_tree(root: Path, classes: dict[str, int], size=(20, 14)) -> Path:
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def folder_data(root: Path, **kw) -> Data:
    return Data(dataset="image_folder", path=str(root), image_size=12, val_split=0.2, **kw)


def test_image_folder_loads_resized_and_labelled(tmp_path):
    root = image_tree(tmp_path / "pets", {"cats": 6, "dogs": 4})
    bundle = load_data(folder_data(root), seed=0)
    assert bundle.class_names == ["cats", "dogs"]
    assert bundle.train_x.shape == (8, 3, 12, 12) and bundle.val_x.shape == (2, 3, 12, 12)
    assert sorted(torch.cat([bundle.train_y, bundle.val_y]).tolist()) == [0] * 6 + [1] * 4


def test_image_folder_corrupt_files_are_skipped_or_refused(tmp_path):
    root = image_tree(tmp_path / "pets", {"cats": 5, "dogs": 5})
    (root / "cats" / "broken.jpg").write_bytes(b"not an image")
    notes: list[str] = []
    bundle = load_data(folder_data(root), seed=0, log=notes.append)
    assert len(bundle.train_y) + len(bundle.val_y) == 10
    assert notes and "skipped 1 unreadable image" in notes[0]
    with pytest.raises(DataError, match=r"broken.jpg: cannot read this image .* set data.on_corrupt: skip"):
        load_data(folder_data(root, on_corrupt="error"), seed=0)


@pytest.mark.parametrize("layout, words", [
    ({"cats": 4}, "only one class folder ('cats')"),
    ({}, "no images"),
])
def test_image_folder_without_two_classes(tmp_path, layout, words):
    root = image_tree(tmp_path / "pets", layout)
    (root / "empty").mkdir(parents=True, exist_ok=True)
    with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_data(folder_data(root), seed=0)


def test_image_folder_missing_path(tmp_path):
    with pytest.raises(DataError, match="data.path: .* is not a folder"):
        load_data(folder_data(tmp_path / "nowhere"), seed=0)


def test_dataset_too_big_for_memory_is_refused(tmp_path):
    root = image_tree(tmp_path / "pets", {"a": 3, "b": 3})
    with pytest.raises(DataError, match="data.image_size: 6 images at 12px need"):
        load_data(folder_data(root, max_memory_gb=1e-9), seed=0)


def test_oxford_pet_binary_target(tmp_path, monkeypatch):
    """The real loading code, with torchvision's dataset object replaced by files made here."""
    import torchvision.datasets as tvd

    root = image_tree(tmp_path / "images", {"x": 8}, size=(30, 20))
    files = sorted((root / "x").iterdir())

    class FakePet:
        def __init__(self, root, split, target_types, download):
            assert split == "trainval" and target_types == "binary-category"
            self._images = files
            self._bin_labels = [i % 2 for i in range(len(files))]

    monkeypatch.setattr(tvd, "OxfordIIITPet", FakePet)
    bundle = load_data(Data(dataset="oxford_pet", root=str(tmp_path), image_size=16, val_split=0.25), seed=0)
    assert bundle.class_names == ["cat", "dog"] and bundle.train_x.shape == (6, 3, 16, 16)
