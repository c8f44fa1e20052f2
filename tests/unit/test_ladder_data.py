"""The dogs-vs-cats ladder's data: labels from Kaggle's file names (data.label_from) and the
course's per-class subset drawn from the full folder (data.per_class {train, val, test})."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from cnn_tui.contract.errors import DataError
from cnn_tui.data.by_name import class_of
from cnn_tui.data.sources import load_data, preview
from cnn_tui.recipes.schema import Data
from tests.dataset_files import image_tree, pet_photos

pytestmark = pytest.mark.timeout(60)


def folder_data(root: Path, **kw) -> Data:
    fields = {"image_size": 12, "decode_cache": None, "label_from": "filename", **kw}
    return Data(dataset="image_folder", path=str(root), **fields)


def test_the_class_is_the_name_before_the_first_dot():
    assert class_of("cat.0.jpg") == "cat" and class_of("dog.12499.jpg") == "dog"
    assert class_of("golden.retriever.3.JPG") == "golden"
    assert class_of("1.jpg") is None and class_of("cat") is None and class_of(".0.jpg") is None


def test_kaggle_names_give_the_classes_and_every_file_its_own(tmp_path):
    folder = pet_photos(tmp_path / "train", 6)
    bundle = load_data(folder_data(folder, val_split=0.5), seed=0)
    assert bundle.class_names == ["cat", "dog"]
    assert len(bundle.train) + len(bundle.val) == 12
    assert torch.bincount(torch.cat([bundle.train.y, bundle.val.y])).tolist() == [6, 6]
    assert "one folder of images named by class" in bundle.description


def test_a_kaggle_root_with_train_and_an_unlabelled_test1_reads_train_by_name(tmp_path):
    pet_photos(tmp_path / "dogs-vs-cats" / "train", 5)
    (tmp_path / "dogs-vs-cats" / "test1").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "dogs-vs-cats" / "test1" / "1.jpg")  # Kaggle's: no labels
    line = preview(folder_data(tmp_path / "dogs-vs-cats"), seed=0)
    assert "splits from folders train/ in " in line and "classes from file names" in line
    assert "2 classes: cat, dog" in line and "ignored: test1/" in line


def test_auto_reads_class_folders_where_there_are_and_names_where_not(tmp_path):
    pets = pet_photos(tmp_path / "PetImages", 4, layout="petimages")
    assert "one folder of class folders" in preview(folder_data(pets, label_from="auto"), seed=0)
    kaggle = pet_photos(tmp_path / "train", 4)
    assert "images named by class" in preview(folder_data(kaggle, label_from="auto"), seed=0)


def test_per_class_draws_disjoint_balanced_splits_by_the_seed(tmp_path):
    folder = pet_photos(tmp_path / "train", 12)
    spec = {"train": 5, "val": 3, "test": 2}
    data = folder_data(folder, per_class=spec, loader="stream")
    first, again, other = (load_data(data, seed=s) for s in (0, 0, 1))
    sets = [first.train, first.val, first.test]
    assert [torch.bincount(s.y).tolist() for s in sets] == [[5, 5], [3, 3], [2, 2]]
    files = [set(s.files) for s in sets]
    assert not (files[0] & files[1] or files[0] & files[2] or files[1] & files[2])  # disjoint
    assert [s.files for s in sets] == [again.train.files, again.val.files, again.test.files]
    assert first.train.files != other.train.files  # the seed decides the draw
    assert "train 5 / val 3 / test 2 per class drawn with the seed" in first.description
    assert "test set: drawn per class from the training data with the seed (0)" in first.description


def test_per_class_balances_an_unbalanced_folder_and_draws_val_from_its_own_folder(tmp_path):
    image_tree(tmp_path / "pets" / "train", {"cats": 5, "dogs": 10})  # Oxford-IIIT Pet: 1 cat to 2 dogs
    image_tree(tmp_path / "pets" / "val", {"cats": 4, "dogs": 8}, seed=1)
    data = folder_data(tmp_path / "pets", label_from="folder", per_class={"train": 4, "val": 3})
    bundle = load_data(data, seed=0)
    assert torch.bincount(bundle.train.y).tolist() == [4, 4]
    assert torch.bincount(bundle.val.y).tolist() == [3, 3] and bundle.test is None
    with pytest.raises(DataError) as exc:  # its own val/ folder has 4 cats
        preview(folder_data(tmp_path / "pets", label_from="folder", per_class={"train": 4, "val": 5}), seed=0)
    assert _one_line(exc) == (f"data.per_class: val 5 images per class, but class 'cats' has 4 in "
                              f"{tmp_path / 'pets' / 'val'}; lower data.per_class.val to at most 4")


def test_per_class_splits_work_on_generated_data_too():
    data = Data(dataset="shapes", image_size=16, per_class={"train": 7, "val": 4, "test": 3},
                shapes={"num_train": 60, "num_val": 30, "classes": ["circle", "square"]})
    bundle = load_data(data, seed=0)
    assert [torch.bincount(s.y).tolist() for s in (bundle.train, bundle.val, bundle.test)] == [[7, 7], [4, 4], [3, 3]]


def test_per_class_as_a_count_still_keeps_training_images_only(tmp_path):
    data = Data(dataset="shapes", image_size=16, per_class=3,
                shapes={"num_train": 60, "num_val": 30, "classes": ["circle", "square"]})
    bundle = load_data(data, seed=0)
    assert torch.bincount(bundle.train.y).tolist() == [3, 3] and len(bundle.val) == 30


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_more_per_class_than_the_folder_has_says_how_many_there_are(tmp_path):
    folder = pet_photos(tmp_path / "train", 7)
    with pytest.raises(DataError) as exc:
        preview(folder_data(folder, per_class={"train": 4, "val": 2, "test": 2}), seed=0)
    assert _one_line(exc) == (f"data.per_class: train 4 + val 2 + test 2 = 8 images per class, but class 'cat' "
                              f"has 7 in {folder}; lower data.per_class so that the splits add up to at most 7")


@pytest.mark.parametrize(("names", "expected"), [
    (["cat.0.jpg", "dog.0.jpg", "1.jpg"], "data.label_from: filename takes the class from the name before its "
                                          "first dot (cat.0.jpg, dog.0.jpg); {folder}/1.jpg has none"),
    (["cat.0.jpg", "cat.1.jpg"], "data.label_from: the file names in {folder} give one class only ('cat', 2 "
                                 "images, e.g. {folder}/cat.0.jpg); a classifier needs at least 2"),
    (["IMG_0001.a.jpg", "IMG_0002.b.jpg", "IMG_0003.c.jpg"],
     "data.label_from: the file names in {folder} do not hold classes: 3 classes from 3 images"),
])
def test_names_that_do_not_hold_a_class_are_refused_naming_a_file(tmp_path, names, expected):
    folder = tmp_path / "train"
    folder.mkdir()
    for name in names:
        Image.new("RGB", (8, 8)).save(folder / name)
    with pytest.raises(DataError) as exc:
        preview(folder_data(folder), seed=0)
    assert _one_line(exc).startswith(expected.format(folder=folder))


def test_filename_on_a_folder_with_sub_folders_is_refused(tmp_path):
    pets = pet_photos(tmp_path / "PetImages", 2, layout="petimages")
    with pytest.raises(DataError) as exc:
        preview(folder_data(pets), seed=0)
    assert _one_line(exc).startswith(f"data.path: {pets} has sub-folders (Cat/, Dog/) and data.label_from is "
                                     "filename")


@pytest.mark.parametrize("split", [False, True])
def test_class_folders_with_loose_images_beside_them_are_refused(tmp_path, split):
    folder = tmp_path / "data" / ("train" if split else "")
    image_tree(folder, {"cats": 2, "dogs": 2})
    if split:
        image_tree(tmp_path / "data" / "val", {"cats": 2, "dogs": 2})
    Image.new("RGB", (8, 8)).save(folder / "cat.7.jpg")
    with pytest.raises(DataError) as exc:
        preview(folder_data(tmp_path / "data", label_from="folder"), seed=0)
    assert _one_line(exc).startswith(f"data.path: {folder} has both class folders "
                                     f"(cats/, dogs/) and 1 loose image(s) beside them (e.g. {folder}/cat.7.jpg)")


def test_loose_images_without_label_from_point_to_it(tmp_path):
    folder = pet_photos(tmp_path / "train", 2)
    with pytest.raises(DataError) as exc:
        preview(folder_data(folder, label_from="folder"), seed=0)
    assert "holds images directly" in _one_line(exc) and "data.label_from: filename" in str(exc.value)


def test_oxford_pet_is_drawn_per_class_with_its_official_test_split_kept_as_the_test_set(tmp_path):
    from tests.dataset_files import write_oxford_pet

    write_oxford_pet(tmp_path, per_breed=6, test_per_breed=3)
    bundle = load_data(Data(dataset="oxford_pet", root=str(tmp_path), image_size=16, download=False,
                            per_class={"train": 4, "val": 3, "test": 2}), seed=0)
    assert [torch.bincount(s.y).tolist() for s in (bundle.train, bundle.val, bundle.test)] == [[4, 4], [3, 3], [2, 2]]
    assert "the official Oxford-IIIT Pet test split" in bundle.description
