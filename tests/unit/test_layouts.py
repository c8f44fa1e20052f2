"""ImageFolder layouts users bring: flat class folders, split folders under many names, explicit
paths, a wrapper folder from an archive; and the layouts that must be refused with one line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_tui.contract.errors import DataError, RecipeError
from cnn_tui.data.sources import load_data, preview
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.recipes.schema import Data
from tests.dataset_files import image_tree

CLASSES = {"cats": 5, "dogs": 4}


def folder_data(root: Path | None = None, **kw) -> Data:
    fields = {"image_size": 12, "val_split": 0.25, "decode_cache": None, **kw}
    return Data(dataset="image_folder", path=str(root) if root else None, **fields)


def tree(root: Path, splits: dict[str, int], fmt: str = "png") -> Path:
    """root/<split>/{cats,dogs}/*: split -> images per class."""
    for seed, (split, count) in enumerate(splits.items()):
        image_tree(root / split, {"cats": count, "dogs": count}, fmt=fmt, seed=seed)
    return root


def labels_follow_the_tint(images) -> bool:
    """image_tree tints class k by channel k: the label must say which channel is brightest."""
    brightest = images.x.float().mean((2, 3)).argmax(1)
    return bool(torch.equal(brightest, images.y))


# layout -> (folders made under root, data fields, expected (train, val, test) sizes, origin words)
LAYOUTS = {
    "hymenoptera_train_val": ({"train": 6, "val": 3}, {}, (12, 6, None), "splits from folders train/ val/"),
    "course_train_validation_test": ({"train": 6, "validation": 3, "test": 2}, {}, (12, 6, 4),
                                     "splits from folders train/ validation/ test/"),
    "kaggle_training_set_test_set": ({"training_set": 8, "test_set": 2}, {}, (12, 4, 4),
                                     "splits from folders training_set/ test_set/"),
    "capitalised_Train_Valid": ({"Train": 6, "Valid": 2}, {}, (12, 4, None), "splits from folders Train/ Valid/"),
    "train_only_then_val_split": ({"train": 8}, {}, (12, 4, None), "splits from folders train/"),
}


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_split_folder_layouts_are_used_as_splits(name, fmt, tmp_path):
    splits, fields, sizes, origin = LAYOUTS[name]
    root = tree(tmp_path / "data", splits, fmt)
    bundle = load_data(folder_data(root, **fields), seed=0)
    assert bundle.class_names == ["cats", "dogs"]  # never "train" and "val"
    got = (len(bundle.train), len(bundle.val), len(bundle.test) if bundle.test is not None else None)
    assert got == sizes
    assert origin in bundle.description and "2 classes: cats, dogs" in bundle.description
    for images in (bundle.train, bundle.val, bundle.test):
        if images is not None:
            assert labels_follow_the_tint(images)
    assert preview(folder_data(root, **fields), seed=0) == bundle.description  # validate says the same


def test_wrapper_folder_from_an_archive_is_looked_into(tmp_path):
    tree(tmp_path / "download" / "hymenoptera_data", {"train": 4, "val": 2})
    bundle = load_data(folder_data(tmp_path / "download"), seed=0)
    assert (len(bundle.train), len(bundle.val)) == (8, 4)
    assert "in " + str(tmp_path / "download" / "hymenoptera_data") in bundle.description


def test_imagenet_style_synset_folders_and_ignored_extras(tmp_path):
    root = tmp_path / "imagenet"
    for split, count in (("train", 3), ("val", 1)):
        image_tree(root / split, {"n01440764": count, "n01443537": count, "n01484850": count}, fmt="jpeg")
    image_tree(root / "extras", {"whatever": 2})
    bundle = load_data(folder_data(root), seed=0)
    assert bundle.class_names == ["n01440764", "n01443537", "n01484850"]
    assert (len(bundle.train), len(bundle.val)) == (9, 3) and "(ignored: extras/)" in bundle.description
    assert labels_follow_the_tint(bundle.train)


def test_explicit_split_paths_anywhere(tmp_path):
    image_tree(tmp_path / "a" / "mine", CLASSES)
    image_tree(tmp_path / "b" / "held", {"cats": 2, "dogs": 2}, seed=1)
    image_tree(tmp_path / "c" / "final", {"cats": 3, "dogs": 3}, seed=2)
    data = folder_data(train_path=str(tmp_path / "a" / "mine"), val_path=str(tmp_path / "b" / "held"),
                       test_path=str(tmp_path / "c" / "final"))
    bundle = load_data(data, seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (9, 4, 6)
    assert bundle.description.startswith("splits from data.train_path/val_path/test_path: train 9 / val 4 / test 6")


def test_flat_root_keeps_val_split_and_test_split_holds_out_a_test_set(tmp_path):
    root = image_tree(tmp_path / "pets", {"cats": 20, "dogs": 20})
    plain = load_data(folder_data(root), seed=0)
    assert (len(plain.train), len(plain.val), plain.test) == (30, 10, None)
    assert "one folder of class folders" in plain.description and "no test split" in plain.description
    held = load_data(folder_data(root, test_split=0.2), seed=0)
    assert (len(held.train), len(held.val), len(held.test)) == (24, 8, 8)
    assert "test_split 0.2" in held.description
    pixels = lambda s: {bytes(img.numpy()) for img in s.x}  # noqa: E731
    assert not pixels(held.test) & (pixels(held.train) | pixels(held.val))  # disjoint
    again = load_data(folder_data(root, test_split=0.2), seed=0)
    assert torch.equal(again.test.x, held.test.x)  # seeded


@pytest.mark.parametrize("layout, fields, words", [
    ({"train": {"cats": 3, "dogs": 3}, "val": {"cats": 2, "bees": 2}}, {},
     "the splits' class folders differ in {root}: val/ lacks dogs; val/ has bees, which train/ lacks"),
    ({"train": {"cats": 3, "dogs": 3}, "val": {}}, {}, "data.path: {root}/val has no images in class sub-folders"),
    ({"val": {"cats": 2, "dogs": 2}}, {}, "data.path: {root} has val/ but no train/ folder"),
    ({"train": {"cats": 3, "dogs": 3}, "training": {"cats": 3, "dogs": 3}}, {},
     "data.path: {root} has both train/ and training/; keep one train folder"),
    ({"train": {"cats": 3}, "val": {"cats": 1}}, {}, "has images in only one class folder ('cats')"),
])
def test_bad_layouts_are_one_clear_line(tmp_path, layout, fields, words):
    root = tmp_path / "data"
    for split, classes in layout.items():
        (root / split).mkdir(parents=True)
        image_tree(root / split, classes)
    with pytest.raises(DataError) as info:
        load_data(folder_data(root, **fields), seed=0)
    message = str(info.value)
    assert "\n" not in message and words.format(root=root) in message, message


def test_split_folders_holding_images_directly_are_not_read_as_two_classes(tmp_path):
    """The old failure: train/ and val/ full of images trained as classes 'train' and 'val'."""
    root = tmp_path / "data"
    for split in ("train", "val"):
        (root / split).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / split / f"{i}.png")
    with pytest.raises(DataError, match=r"train holds images directly; each split folder needs one sub-folder"):
        load_data(folder_data(root), seed=0)


def test_test_path_without_val_path_is_refused_in_the_recipe(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(textwrap.dedent("""\
        kind: scratch
        data: {dataset: image_folder, train_path: a, test_path: b}
    """))
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert str(info.value) == (f"{path}:2: data.test_path: needs data.val_path too (validation must not be "
                               "the test set); set val_path, or use data.test_split")


def test_mixed_modes_and_sizes_in_one_folder_are_converted(tmp_path):
    root = tmp_path / "mixed"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (30, 50), dtype=np.uint8), "L").save(root / "a" / "grey.png")
    Image.fromarray(rng.integers(0, 255, (17, 9, 4), dtype=np.uint8), "RGBA").save(root / "a" / "alpha.png")
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).convert("P").save(root / "a" / "pal.gif")
    Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).convert("CMYK").save(root / "b" / "cmyk.jpg")
    Image.fromarray(rng.integers(0, 65535, (24, 24), dtype=np.uint16)).save(root / "b" / "deep.png")  # 16-bit
    Image.fromarray(rng.integers(0, 255, (64, 12, 3), dtype=np.uint8)).save(root / "b" / "tall.bmp")
    bundle = load_data(folder_data(root, val_split=0.2), seed=0)
    everything = torch.cat([bundle.train.x, bundle.val.x])
    assert everything.shape == (6, 3, 12, 12) and everything.dtype == torch.uint8
    deep = load_data(folder_data(root, val_split=0.2, grayscale=True), seed=0)
    assert deep.train.x.shape[1] == 1
