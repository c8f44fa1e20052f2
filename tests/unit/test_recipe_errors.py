"""Bad recipes get one line naming the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnn_tui.contract.errors import RecipeError, UsageError
from cnn_tui.recipes.loader import load_recipe


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path, *overrides: str) -> str:
    with pytest.raises((RecipeError, UsageError)) as info:
        load_recipe(path, list(overrides))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_unknown_key_suggests_the_closest_field(tmp_path):
    path = write(tmp_path, "name: x\ntrain:\n  optimizer:\n    lrr: 0.1\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4: train.optimizer.lrr: unknown field (did you mean 'lr'?)")
    assert "allowed: name, lr, momentum" in message


def test_unknown_top_level_section(tmp_path):
    message = error_of(write(tmp_path, "name: x\ntrian: {}\n"))
    assert "trian: unknown field (did you mean 'train'?)" in message


def test_wrong_type_names_field_and_value(tmp_path):
    message = error_of(write(tmp_path, "train:\n  batch_size: lots\n"))
    assert ":2: train.batch_size:" in message and "'lots'" in message and "integer" in message


@pytest.mark.parametrize("field, value, words", [
    ("train.optimizer.lr", "-0.1", "greater than 0"),
    ("train.batch_size", "0", "greater than or equal to 1"),
    ("model.dropout", "1.0", "less than 1"),
    ("data.val_split", "0", "greater than 0"),
])
def test_out_of_range_values(tmp_path, field, value, words):
    path = write(tmp_path, "name: x\n")
    message = error_of(path, f"{field}={value}")
    assert f"{field}: " in message and words in message and value in message


def test_unknown_choice_lists_allowed_values(tmp_path):
    message = error_of(write(tmp_path, "train:\n  optimizer: {name: adagrad}\n"))
    assert "train.optimizer.name: 'adagrad' is not allowed; allowed: 'sgd', 'adam', 'adamw' or 'rmsprop'" in message


def test_unknown_dataset_and_model(tmp_path):
    assert "allowed: 'shapes', 'lfw_faces', 'mnist'" in error_of(write(tmp_path, "data: {dataset: imagenet}\n"))
    assert "model.arch: 'xception' is not allowed" in error_of(write(tmp_path, "model: {arch: xception}\n"))


def test_missing_file_and_unknown_builtin(tmp_path):
    assert "no such recipe file" in error_of(tmp_path / "nope.yaml")
    message = error_of(Path("scratch_cnm"))
    assert "did you mean 'scratch_cnn'?" in message


@pytest.mark.parametrize("text, words", [
    ("", "the recipe is empty"),
    ("   \n# only a comment\n", "the recipe is empty"),
    ("- a\n- b\n", "got a list"),
    ("42\n", "got a single value (42)"),
    ("name: x\ntrain:\n\tepochs: 3\n", "a tab character"),
    ("name: x\nname: y\n", "duplicate key 'name'"),
    ("name: [unclosed\n", "not valid YAML"),
    ("name: !!python/object/apply:os.system ['echo hi']\n", "not allowed: recipes are plain data"),
])
def test_malformed_yaml(tmp_path, text, words):
    message = error_of(write(tmp_path, text))
    assert str(tmp_path / "r.yaml") in message and words in message


def test_unknown_kind(tmp_path):
    assert "kind: unknown recipe kind 'gan'" in error_of(write(tmp_path, "kind: gan\n"))


def test_layer_list_errors(tmp_path):
    message = error_of(write(tmp_path, "model:\n  arch: layers\n  layers:\n    - conv: {out: 8, kernal: 3}\n"))
    assert "model.layers[0].conv" in message and "did you mean 'kernel'?" in message
    message = error_of(write(tmp_path, "model:\n  arch: layers\n  layers:\n    - {conv: 8, act: relu}\n"))
    assert "model.layers[0]: each layer needs exactly one of" in message
    assert "model: arch 'layers' needs a non-empty" in error_of(write(tmp_path, "model: {arch: layers}\n"))


def test_set_overrides_apply_and_parse_yaml_values(tmp_path):
    recipe, _ = load_recipe(write(tmp_path, "name: x\n"), ["train.epochs=7", "model.blocks=[2, 3]",
                                                            "data.augment.hflip=true"])
    assert recipe.train.epochs == 7 and recipe.model.blocks == [2, 3] and recipe.data.augment.hflip


def test_bad_set_syntax(tmp_path):
    assert "expected FIELD=VALUE" in error_of(write(tmp_path, "name: x\n"), "train.epochs")


def test_defaults_fill_everything(tmp_path):
    recipe, _ = load_recipe(write(tmp_path, "name: x\n"))
    assert recipe.kind == "scratch" and recipe.data.dataset == "shapes" and recipe.train.epochs == 10


def test_paths_resolve_relative_to_the_recipe(tmp_path):
    (tmp_path / "sub").mkdir()
    recipe, _ = load_recipe(write(tmp_path / "sub", "data: {dataset: image_folder, path: ../imgs, root: cache}\n"))
    assert recipe.data.path == str((tmp_path / "imgs").resolve())
    assert recipe.data.root == str((tmp_path / "sub" / "cache").resolve())


def test_transfer_recipe_rules(tmp_path):
    message = error_of(write(tmp_path, "kind: fine_tuning\ntrain: {epochs: 3}\n"))
    assert ": train.epochs: fine-tuning takes its epochs from phases (they add up to 10)" in message
    message = error_of(write(tmp_path, "kind: feature_extraction\ndata: {augment: {hflip: true}}\n"))
    assert "data.augment: mode 'precompute' runs the base once" in message
    message = error_of(write(tmp_path, "kind: feature_extraction\nbackbone: {name: vgg20}\n"))
    assert "backbone.name: 'vgg20' is not allowed; allowed: 'efficientnet_lite0', 'vgg16', 'vgg19'" in message
    message = error_of(write(tmp_path, "kind: fine_tuning\nphases:\n  - {epochs: 2, unfreez: 1}\n"))
    assert "phases[0].unfreez: unknown field (did you mean 'unfreeze'?)" in message
