"""`cnn-tui views RUN_DIR`: a finished run's views for a probe the user chooses, and one line + exit 2
for every input it cannot take (nothing written then)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from cnn_tui.recipes.loader import load_recipe
from tests.conftest import TINY_RECIPE
from tests.e2e.test_cli import run_here
from tests.helpers import run_collect


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("views")
    path = tmp / "r.yaml"
    path.write_text(TINY_RECIPE)
    recipe = load_recipe(path, ["train.epochs=1"])[0]
    result, _ = run_collect(recipe, tmp / "runs")
    return result.run_dir


def _events(run_dir):
    return [json.loads(line) for line in (run_dir / "views" / "chosen" / "events.jsonl").read_text().splitlines()]


@pytest.mark.timeout(120)
def test_an_image_file_as_the_probe(finished, tmp_path, capsys):
    image = tmp_path / "odd.png"
    Image.new("LA", (50, 30), (200, 255)).save(image)  # grey with alpha, not square, not the model's size
    done = run_here(capsys, "views", str(finished), "--image", str(image), "--shift", "3")
    assert done.returncode == 0, done.stderr
    assert f"{image}: predicted " in done.stdout and "shifted 3 px: predicted" in done.stdout
    cams, maps, space = _events(finished)
    assert cams["type"] == "gradcam" and [p["role"] for p in cams["pictures"]] == ["probe", "shifted"]
    assert space["type"] == "embedding" and space["epoch"] == 0 and space["points"] > 0  # the validation set's
    assert (space["path"], space["tsne"]) == ("views/chosen/embedding.png", "views/chosen/embedding-tsne.png")
    assert "feature space (embedding.png, embedding-tsne.png)" in done.stdout
    assert maps["type"] == "feature_maps" and maps["label"] == "" and maps["input"] == "views/chosen/probe.png"
    (wants,) = maps["wants"]  # what the deepest drawn layer's first channels want to see, for the inside page
    assert wants["name"] == maps["layers"][-1]["name"] and wants["path"].startswith("views/chosen/wants-")
    spaces = [{"path": space["path"]}, {"path": space["tsne"]}]
    for picture in cams["pictures"] + maps["layers"] + maps["wants"] + spaces:
        with Image.open(finished / picture["path"]) as png:
            assert png.size[0] > 0
    with Image.open(finished / maps["input"]) as probe:
        assert probe.size == (16, 16)  # the model's size
    with Image.open(finished / "views" / "chosen" / "shift.png") as pair:
        assert pair.size[0] > pair.size[1] / 2 > 0  # two columns: the probe and its shifted copy


@pytest.mark.timeout(120)
def test_a_class_picks_its_first_validation_image_and_a_second_call_replaces_the_folder(finished, capsys):
    done = run_here(capsys, "views", str(finished), "--class", "cross")
    assert done.returncode == 0, done.stderr
    assert "true class cross" in done.stdout
    assert _events(finished)[1]["label"] == "cross"
    assert run_here(capsys, "views", str(finished), "--index", "2").returncode == 0
    assert not [p for p in (finished / "views").iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args,says", [
    (["--index", "9999"], "--index 9999: out of range"),
    (["--class", "dog"], "--class 'dog': not a class of this run"),
    (["--image", "/no/such.png"], "--image /no/such.png: no such file"),
    (["--shift", "0"], "--shift 0: the shift is 1..7 px"),
    (["--index", "1", "--class", "cross"], "--index and --class both choose the probe"),
])
def test_bad_input_is_one_line_and_exit_2(finished, capsys, args, says):
    before = sorted(p.name for p in (finished / "views").rglob("*"))
    done = run_here(capsys, "views", str(finished), *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert sorted(p.name for p in (finished / "views").rglob("*")) == before


@pytest.mark.timeout(60)
def test_not_a_run_an_unreadable_image_and_a_run_without_checkpoint(finished, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    assert "not an image this can read" in run_here(capsys, "views", str(finished), "--image", str(bad)).stderr
    assert "no such run directory" in run_here(capsys, "views", str(tmp_path / "nope")).stderr
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    shutil.rmtree(copy / "checkpoints")
    done = run_here(capsys, "views", str(copy))
    assert done.returncode == 2 and "no checkpoint to draw views of" in done.stderr


@pytest.mark.timeout(60)
def test_views_writers_take_turns_and_a_killed_ones_leftovers_go(tmp_path):
    """Two `views` on one run at once (two shells, the dashboard's N): each swaps in its own folder
    whole (no ENOTEMPTY traceback for the slower one); folders a killed writer left are removed."""
    import os
    import subprocess
    import sys
    import threading

    from cnn_tui.commands.views import _swap

    views = tmp_path / "views"
    views.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a pid that has exited
    (views / f".chosen-{dead}-abc123").mkdir()  # a staging folder of a SIGKILLed views
    (views / f".chosen-old-{dead}").mkdir()
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        for i in range(60):
            staging = views / f".chosen-{os.getpid()}-{k}-{i}"
            staging.mkdir()
            (staging / "probe.png").write_text(f"{k}-{i}")
            try:
                _swap(staging, views / "chosen")
            except OSError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert sorted(p.name for p in (views / "chosen").iterdir()) == ["probe.png"]
    assert not [p.name for p in views.iterdir() if p.name.startswith(".chosen-")]
