"""`model.init_from: RUN_DIR`: a deeper net starts from a shallower run's kept weights where names
and shapes match (VGG's progressive training), says what it copied and what it did not, and
refuses a bad run directory, a run without weights, or a net that shares nothing, in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from cnn_tui.cli import main
from cnn_tui.models.build import build_model
from cnn_tui.models.init_from import copy_matching
from tests.helpers import of_type, run_collect

pytestmark = pytest.mark.timeout(240)
DEEPER = ["model.vgg_config=[4, 4, M, 8, M]", "data.shapes.classes=[circle, square, cross, ring]"]


@pytest.fixture(scope="module")
def shallow_run(tmp_path_factory) -> Path:
    """The tiny recipe's net A ([4, M, 8, M], 3 classes), one epoch."""
    from cnn_tui.recipes.loader import load_recipe
    from tests.conftest import TINY_RECIPE

    base = tmp_path_factory.mktemp("init_from")
    (base / "tiny.yaml").write_text(TINY_RECIPE)
    recipe, _ = load_recipe(base / "tiny.yaml", ["train.epochs=1"])
    result, _ = run_collect(recipe, base / "runs")
    return result.run_dir


def test_a_deeper_net_starts_from_the_shallow_runs_matching_layers(shallow_run, load_tiny, tmp_path):
    recipe = load_tiny(*DEEPER, f"model.init_from={shallow_run}", "train.epochs=1")
    model = build_model(recipe.model, 3, 16, 4)
    report = copy_matching(model, recipe.model.init_from)
    theirs = torch.load(shallow_run / "checkpoints" / "best.pt", weights_only=True)["model"]
    ours = model.state_dict()
    # conv1_1 and conv2_1 with their batch norms (weight, bias, 2 statistics, a counter) come over
    assert sorted(report.copied) == sorted(k for k in theirs if not k.startswith("classifier"))
    assert len(report.copied) == 12 and report.total == 20
    for name in report.copied:
        assert torch.equal(ours[name], theirs[name]), name
    assert not torch.equal(ours["classifier.bias"][:3], theirs["classifier.bias"])  # 4 classes now: fresh
    line = report.in_words()
    assert line.startswith(f"model.init_from: copied 12 of 20 tensors from {shallow_run / 'checkpoints'}")
    assert line.endswith("; left at random: not in that net: conv1_2, bn1_2; "
                         "shaped differently: classifier.weight 3x128 there, 4x128 here")

    result, events = run_collect(recipe, tmp_path / "runs")  # the run says it too, and trains
    assert result.summary["status"] == "completed"
    assert any(e.message.startswith("model.init_from: copied 12 of 20") for e in of_type(events, "log"))


@pytest.mark.parametrize("where, words", [
    ("missing", "no such run directory"),
    ("empty", "not a run directory (it has no recipe.yaml)"),
    ("no_checkpoint", "no checkpoint to initialise from (checkpoints/best.pt or last.pt)"),
    ("other_net", "has no tensor of this net's names and shapes"),
])
def test_bad_run_directories_are_one_line_exit_2(where, words, shallow_run, tiny_recipe_path, tmp_path, capsys):
    run_dir = tmp_path / where
    if where == "empty":
        run_dir.mkdir()
    elif where == "no_checkpoint":
        shutil.copytree(shallow_run, run_dir, ignore=shutil.ignore_patterns("*.pt"))
    elif where == "other_net":
        run_dir = shallow_run
    sets = ["--set", f"model.init_from={run_dir}"]
    if where == "other_net":
        sets += ["--set", "model.arch=resnet"]  # only classifier.bias (3) would fit: a bias alone never comes over
    assert main(["validate", str(tiny_recipe_path), *sets]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("cnn-tui: error: ") and "model.init_from: " in err, err
    assert words in err, err
    out = tmp_path / "runs"
    assert main(["run", str(tiny_recipe_path), "--quiet", "--out", str(out), *sets]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())  # nothing half-made


def test_validate_says_what_a_run_would_copy(shallow_run, tiny_recipe_path, capsys):
    args = ["validate", str(tiny_recipe_path), "--set", f"model.init_from={shallow_run}"]
    assert main([*args, "--set", "model.vgg_config=[4, 4, M, 8, M]"]) == 0
    assert "model.init_from: copied 14 of 20 tensors" in capsys.readouterr().out


def test_a_resumed_run_takes_its_weights_from_its_checkpoint_not_init_from(shallow_run, load_tiny, tmp_path,
                                                                              capsys):
    """The other run may have been moved or deleted since the run started: a resume must not read it
    (the checkpoint holds the weights, init_from's copy included)."""
    from cnn_tui.train.control import RunControl
    from tests.helpers import stop_at

    source = tmp_path / "shallow"
    shutil.copytree(shallow_run, source)
    control = RunControl()
    part, _ = run_collect(load_tiny(*DEEPER, f"model.init_from={source}"), tmp_path / "runs", control=control,
                          on_event=stop_at(4, control))
    assert part.status == "interrupted"
    shutil.move(source, tmp_path / "moved")  # the other run is gone from where the recipe says
    assert main(["run", "--resume", str(part.run_dir), "--quiet"]) == 0, capsys.readouterr().err
    said = [json.loads(line) for line in (part.run_dir / "events.jsonl").read_text().splitlines()]
    logs = [e["message"] for e in said if e.get("type") == "log"]
    assert sum(m.startswith("model.init_from: copied") for m in logs) == 1  # the start copied, the resume did not
    assert any(m.startswith("model.init_from: not read on resume") for m in logs), logs
    assert json.loads((part.run_dir / "summary.json").read_text())["status"] == "completed"
