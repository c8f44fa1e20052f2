"""`cnn-tui predict`: a trained run classifies new images (any mode, folders), an ImageNet
network labels a photo, and every bad input is one line while the rest are still classified."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnn_tui.cli import main
from cnn_tui.recipes.loader import load_recipe
from tests.dataset_files import image_tree
from tests.helpers import run_collect

pytestmark = pytest.mark.timeout(240)
SAMPLES = Path(__file__).resolve().parents[2] / "recipes" / "images"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A scratch run on tinted classes (red, green, blue), trained until it knows them."""
    base = tmp_path_factory.mktemp("predict")
    root = image_tree(base / "train", {"red": 24, "green": 24, "blue": 24}, size=(20, 16))
    recipe_path = base / "tint.yaml"
    recipe_path.write_text(f"""\
kind: scratch
name: tint
data: {{dataset: image_folder, path: {root}, image_size: 16, val_split: 0.25, decode_cache: null}}
model: {{arch: vgg, vgg_config: [8, M, 16, M]}}
train: {{epochs: 4, batch_size: 16, optimizer: {{name: adam, lr: 0.01, weight_decay: 0.0}}}}
""")
    recipe, _ = load_recipe(recipe_path)
    result, _ = run_collect(recipe, base / "runs")
    assert result.summary["best"]["val/acc"] > 0.9
    return result.run_dir


def new_images(folder: Path) -> dict[str, str]:
    """Images the run never saw, in assorted modes and sizes: file -> the class it shows."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    truth = {}
    for k, name in enumerate(["red", "green", "blue"]):
        pixels = rng.integers(0, 100, (30, 41, 3), dtype=np.uint8)
        pixels[..., k] += 150
        rgb = Image.fromarray(pixels)
        rgb.save(folder / f"{name}.png")
        rgb.convert("RGBA").save(folder / f"{name}_alpha.png")
        rgb.convert("P").save(folder / f"{name}_palette.gif")
        rgb.resize((90, 33)).save(folder / f"{name}_wide.jpg", quality=95)
        truth.update({f"{name}.png": name, f"{name}_alpha.png": name, f"{name}_palette.gif": name,
                      f"{name}_wide.jpg": name})
    return truth


def test_a_run_classifies_a_folder_of_new_images_in_any_mode(trained_run, tmp_path, capsys):
    truth = new_images(tmp_path / "new")
    Image.fromarray(np.full((12, 12), 40000, np.uint16)).save(tmp_path / "new" / "deep.png")  # 16-bit grey
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(tmp_path / "new" / "cmyk.jpg")  # red in CMYK
    truth["cmyk.jpg"] = "red"
    assert main(["predict", str(trained_run), str(tmp_path / "new")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(truth) + 1  # one line per image, deep.png included
    top = {Path(line.split(": ")[0]).name: line.split(": ")[1].split(" ")[0] for line in lines}
    right = sum(top[name] == cls for name, cls in truth.items())
    assert right >= len(truth) - 1, lines


def test_json_output_for_scripts(trained_run, tmp_path, capsys):
    new_images(tmp_path / "new")
    assert main(["predict", str(trained_run), str(tmp_path / "new" / "blue.png"), "--json", "--top-k", "3"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["model"].startswith(f"{trained_run.name}, best.pt (epoch ")
    (only,) = document["predictions"]
    probabilities = [entry["p"] for entry in only["top"]]
    assert [entry["class"] for entry in only["top"]][0] == "blue"
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) == pytest.approx(1, abs=1e-4)
    assert document["errors"] == []


def test_bad_inputs_are_one_line_each_and_the_rest_still_classified(trained_run, tmp_path, capsys):
    new_images(tmp_path / "new")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    code = main(["predict", str(trained_run), str(tmp_path / "new" / "red.png"), str(tmp_path / "notes.txt"),
                 str(tmp_path / "missing.jpg"), str(tmp_path / "empty")])
    out, err = capsys.readouterr()
    assert code == 2 and out.count("\n") == 1 and out.startswith(str(tmp_path / "new" / "red.png"))
    errors = err.strip().splitlines()
    assert len(errors) == 3
    assert any(f"{tmp_path / 'notes.txt'}: not an image this can read" in e for e in errors)
    assert any(f"{tmp_path / 'missing.jpg'}: no such file or folder" in e for e in errors)
    assert any(f"{tmp_path / 'empty'}: no images in this folder" in e for e in errors)


def test_run_directories_that_cannot_predict_are_one_line(trained_run, tmp_path, capsys):
    import shutil

    image = str(SAMPLES / "chelsea.jpg")
    no_checkpoint = tmp_path / "copy"
    shutil.copytree(trained_run, no_checkpoint)
    shutil.rmtree(no_checkpoint / "checkpoints")
    assert main(["predict", str(no_checkpoint), image]) == 2
    assert "no checkpoint to predict with" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nowhere"), image]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["predict", str(trained_run)]) == 2
    assert "give a run directory and at least one image" in capsys.readouterr().err


def test_a_style_transfer_run_has_no_classifier(tmp_path, capsys):
    recipe, _ = load_recipe("style_transfer_random_net", ["steps=2", "image_size=48", "content_layers=[relu3_1]",
                                                          "style_layers=[relu1_1,relu2_1]"])
    result, _ = run_collect(recipe, tmp_path)
    assert main(["predict", str(result.run_dir), str(SAMPLES / "chelsea.jpg")]) == 2
    err = capsys.readouterr().err
    assert "has no classifier" in err and str(result.run_dir / "images") in err


def test_imagenet_backbone_labels_the_course_photo(capsys):
    """The shipped cat photo through EfficientNet-Lite0's own ImageNet classifier (weights ship in a package)."""
    assert main(["predict", "--backbone", "efficientnet_lite0", str(SAMPLES / "chelsea.jpg"), "--top-k", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.split(": ")[1].rsplit(" ", 1)[0] in {"tabby", "tiger cat", "Egyptian cat", "Persian cat"}, line
    assert main(["predict", "--backbone", "alexnet9", str(SAMPLES / "chelsea.jpg")]) == 2
    assert "--backbone: unknown network 'alexnet9'" in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_a_precomputed_features_run_predicts_with_its_pretrained_base(tmp_path, capsys):
    recipe, _ = load_recipe("feature_extraction_shapes_fewshot", [
        "data.image_size=32", "data.shapes.num_train=120", "data.shapes.num_val=60", "train.epochs=2",
        f"cache_dir={tmp_path / 'features'}"])
    result, _ = run_collect(recipe, tmp_path / "runs")
    from cnn_tui.data import shapes

    x, y = shapes.generate(6, 32, recipe.data.shapes.classes, 0.05, seed=99)
    for i, image in enumerate(x):
        Image.fromarray(image.transpose(1, 2, 0)).save(tmp_path / f"{i}.png")
    assert main(["predict", str(result.run_dir), *[str(tmp_path / f"{i}.png") for i in range(6)]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and all(line.split(": ")[1].split(" ")[0] in recipe.data.shapes.classes for line in lines)
