"""The dogs-vs-cats ladder (Chollet's five rungs) end to end, offline: the shipped recipes, made
tiny (32 px, a few images per class, one epoch, VGG16 cut after block2, without its ImageNet
weights), on generated
JPEGs in the two layouts the real data come in, and `compare` printing the ladder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import RECIPES
from tests.dataset_files import pet_photos
from tests.e2e.test_cli import run_here

LADDER = ["dogs_vs_cats_1_scratch", "dogs_vs_cats_2_scratch_augment", "dogs_vs_cats_3_vgg16_features",
          "dogs_vs_cats_4_vgg16_end_to_end_augment", "dogs_vs_cats_5_vgg16_finetune_block5"]
COURSE = {"1": "~70%", "2": "~82%", "3": "~90%", "4": "~96%", "5": "~97% test"}


def tiny_copy(name: str, data_path: Path, folder: Path) -> Path:
    """The shipped recipe with only its sizes shrunk (and no weights to download)."""
    raw = yaml.safe_load((RECIPES / f"{name}.yaml").read_text())
    raw["device"] = "cpu"
    raw["data"].update(path=str(data_path), image_size=32, per_class={"train": 4, "val": 2, "test": 2},
                       decode_cache=None)
    raw.setdefault("train", {})["batch_size"] = 4
    if raw["kind"] == "fine_tuning":
        for phase in raw["phases"]:
            phase["epochs"] = 1
    else:
        raw["train"]["epochs"] = 1
    if "backbone" in raw:
        raw["backbone"].update(weights="none", until="block2")  # seconds on a CPU, not minutes
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("name", LADDER)
def test_each_rung_states_the_course_number_and_asks_for_the_users_folder(name, capsys):
    text = (RECIPES / f"{name}.yaml").read_text()
    assert f"(course: {COURSE[name.split('_')[3]]})" in text
    raw = yaml.safe_load(text)
    assert raw["data"]["per_class"] == {"train": 1000, "val": 500, "test": 500}  # the course's subset
    assert raw["data"]["image_size"] == 150 and raw["data"]["label_from"] == "auto"
    result = run_here(capsys, "validate", name)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "data.path: " in result.stderr and "dogs-vs-cats/train is not a folder" in result.stderr


@pytest.mark.timeout(240)
def test_the_ladder_runs_on_kaggle_names_and_compare_prints_it(tmp_path, capsys):
    photos = pet_photos(tmp_path / "dogs-vs-cats" / "train", 8)
    paths = [str(tiny_copy(name, photos, tmp_path)) for name in LADDER]
    result = run_here(capsys, "compare", *paths, "--seeds", "1", "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["recipe", "kind"])
    rows = [line.split()[0] for line in lines[header + 1:header + 6]]
    assert rows == LADDER  # one row per rung, in the ladder's order
    assert len(list((tmp_path / "runs").glob("*/summary.json"))) == 5


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", [LADDER[1], LADDER[4]])
def test_a_rung_runs_on_petimages_class_folders(name, tmp_path, capsys):
    photos = pet_photos(tmp_path / "PetImages", 8, layout="petimages")
    result = run_here(capsys, "run", str(tiny_copy(name, photos, tmp_path)), "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert "one folder of class folders" in result.stdout and "2 classes: Cat, Dog" in result.stdout
    assert "train 8 / val 4 / test 4" in result.stdout and "completed" in result.stdout
