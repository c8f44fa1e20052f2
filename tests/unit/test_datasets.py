"""The torchvision datasets, parsed by torchvision itself from files written here in their real
formats (MNIST IDX, CIFAR-10 pickled batches, Oxford-IIIT Pet folders and lists), then trained."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from cnn_tui.contract.errors import DataUnavailableError
from cnn_tui.contract.sinks import CallbackSink
from cnn_tui.data.expected import expected_input
from cnn_tui.data.sources import load_data
from cnn_tui.engine.runner import RunOptions, execute
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.recipes.schema import Data
from tests.dataset_files import CIFAR_NAMES, cifar_checksums, image_tree, write_cifar10, write_mnist, write_oxford_pet


def test_mnist_train_val_and_its_official_test_set(tmp_path):
    write_mnist(tmp_path, n_train=60, n_test=20)
    bundle = load_data(Data(dataset="mnist", root=str(tmp_path), download=False, image_size=28,
                            val_split=0.25), seed=0)
    assert bundle.train.x.shape == (45, 1, 28, 28) and bundle.val.x.shape == (15, 1, 28, 28)
    assert bundle.test is not None and bundle.test.x.shape == (20, 1, 28, 28)
    assert bundle.class_names[0] == "0 - zero"
    assert "MNIST" in bundle.description and "train 45 / val 15 / test 20" in bundle.description


def test_mnist_resized_and_limit_caps_the_test_set_too(tmp_path):
    write_mnist(tmp_path, n_train=60, n_test=40)
    bundle = load_data(Data(dataset="mnist", root=str(tmp_path), download=False, image_size=16, limit=12), seed=0)
    assert bundle.train.x.shape == (12, 1, 16, 16) and bundle.train.x.dtype == torch.uint8
    assert len(bundle.test) == 12


def test_cifar10_parsed_from_pickled_batches_with_the_integrity_check_running(tmp_path, monkeypatch):
    md5s = write_cifar10(tmp_path, per_batch=6, n_test=10)
    cifar_checksums(monkeypatch, md5s)
    bundle = load_data(Data(dataset="cifar10", root=str(tmp_path), download=False, val_split=0.2), seed=0)
    assert bundle.train.x.shape == (24, 3, 32, 32) and len(bundle.val) == 6 and len(bundle.test) == 10
    assert bundle.class_names == CIFAR_NAMES
    # a corrupted batch fails torchvision's own md5 check: the one-line "not in ROOT" error
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DataUnavailableError, match="CIFAR10 is not in"):
        load_data(Data(dataset="cifar10", root=str(tmp_path), download=False), seed=0)


def test_oxford_pet_from_its_folder_and_annotation_lists(tmp_path):
    write_oxford_pet(tmp_path, per_breed=6, test_per_breed=3)
    bundle = load_data(Data(dataset="oxford_pet", root=str(tmp_path), image_size=16, val_split=0.25,
                            download=False), seed=0)
    assert bundle.class_names == ["cat", "dog"]
    assert len(bundle.train) == 18 and len(bundle.val) == 6 and len(bundle.test) == 12
    assert bundle.train.x.shape[1:] == (3, 16, 16)
    # species 1 (cats) were tinted red, 2 (dogs) blue: the labels follow the lists, not the order
    red = bundle.test.x[:, 0].float().mean((1, 2)) > bundle.test.x[:, 2].float().mean((1, 2))
    assert torch.equal(red, bundle.test.y == 0)


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


def _train(name: str, root, tmp_path, *overrides: str) -> dict:
    recipe, _ = load_recipe(name, [f"data.root={root}", *overrides])
    events: list = []
    result = execute(recipe, RunOptions(out=tmp_path / "runs"), CallbackSink(events.append))
    assert result.exit_code == 0, result.summary.get("reason")
    return result.summary


@pytest.mark.timeout(180)
def test_shipped_lenet5_mnist_recipe_trains_offline_on_idx_files_and_reports_a_test_score(tmp_path):
    write_mnist(tmp_path / "data", n_train=300, n_test=100)
    summary = _train("lenet5_mnist", tmp_path / "data", tmp_path, "train.epochs=4", "train.batch_size=32")
    test = summary["test"]
    assert test["images"] == 100 and set(test["per_class_acc"]) == {f"{d} - {w}" for d, w in zip(
        range(10), ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])}
    assert test["test/acc"] > 0.5, test  # the block's position is learnable: chance is 0.1
    assert test["weights"].startswith("best.pt (epoch ")


@pytest.mark.timeout(180)
def test_shipped_resnet_cifar10_recipe_trains_offline_on_pickled_batches(tmp_path, monkeypatch):
    cifar_checksums(monkeypatch, write_cifar10(tmp_path / "data", per_batch=20, n_test=30))
    summary = _train("resnet_cifar10", tmp_path / "data", tmp_path, "train.epochs=1",
                     "train.max_steps_per_epoch=2", "train.batch_size=16")
    assert summary["status"] == "completed" and summary["test"]["images"] == 30


@pytest.mark.timeout(180)
def test_shipped_vgg16_pets_recipe_runs_on_oxford_pet_files_with_its_official_test_split(tmp_path):
    """The real-format Oxford-IIIT Pet tree through the shipped recipe (VGG16 without weights:
    the ImageNet ones need the network), features precomputed, scored on the official test list."""
    write_oxford_pet(tmp_path / "data", per_breed=6, test_per_breed=3)
    summary = _train("vgg16_pets_feature_extraction", tmp_path / "data", tmp_path, "backbone.weights=none",
                     "data.image_size=32", "train.epochs=2", f"cache_dir={tmp_path / 'features'}")
    assert summary["test"]["images"] == 12 and set(summary["test"]["per_class_acc"]) == {"cat", "dog"}


@pytest.mark.parametrize("kind", ["scratch", "fine_tuning"])
@pytest.mark.parametrize("dataset", ["mnist", "cifar10", "oxford_pet", "image_folder", "shapes"])
def test_what_validate_expects_is_what_the_loader_loads(tmp_path, monkeypatch, dataset, kind):
    """validate builds the model from expected_input without reading data: it must match the real thing."""
    fields = dict(dataset=dataset, root=str(tmp_path), download=False, image_size=16, val_split=0.25)
    if dataset == "mnist":
        write_mnist(tmp_path, n_train=20, n_test=8)
    elif dataset == "cifar10":
        cifar_checksums(monkeypatch, write_cifar10(tmp_path, per_batch=4, n_test=4))
    elif dataset == "oxford_pet":
        write_oxford_pet(tmp_path, per_breed=4, test_per_breed=2)
    elif dataset == "image_folder":
        fields["path"] = str(image_tree(tmp_path / "photos", {"ants": 6, "bees": 6, "wasps": 6}))
    else:
        fields.update(root="~/.cache/cnn-tui/data", shapes={"num_train": 40, "num_val": 20})
    data = Data(**fields)
    bundle = load_data(data, seed=0, channels=None if kind == "scratch" else 3)
    loaded = (bundle.channels, bundle.image_size, len(bundle.class_names))
    assert loaded == expected_input(SimpleNamespace(kind=kind, data=data))
    assert tuple(bundle.train.x.shape[1:]) == (loaded[0], 16, 16)
