"""`cnn-tui` as users and scripts call it: exit codes, output, run directories, signals."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from cnn_tui.recipes import builtin
from tests.conftest import ROOT, cnn_tui_cmd

OFFLINE_DATASETS = {"shapes", "lfw_faces"}
RECIPES = list(builtin.headers())


def downloads_weights(header: dict) -> bool:
    """Style recipes have no dataset; VGG feature nets need torchvision's ImageNet weights."""
    raw = yaml.safe_load(Path(header["path"]).read_text())
    return (raw.get("feature_net") or {}).get("name", "vgg19") in ("vgg19", "vgg16")


STYLE = [r for r in RECIPES if r["kind"] == "style_transfer"]
STYLE_OFFLINE = [r["name"] for r in STYLE if not downloads_weights(r)]
STYLE_ONLINE = [r["name"] for r in STYLE if downloads_weights(r)]
OFFLINE = [r["name"] for r in RECIPES if r["dataset"] in OFFLINE_DATASETS] + STYLE_OFFLINE
ONLINE = [r["name"] for r in RECIPES if r["dataset"] not in OFFLINE_DATASETS | {"image_folder", "images"}]


def run(*args: str, env=None, timeout=300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cnn_tui_cmd(*args), capture_output=True, text=True, env=env, timeout=timeout, **kw)


def run_here(capsys, *args: str) -> subprocess.CompletedProcess:
    """`cnn-tui ARGS` through the same main() in this process: the per-recipe checks below would
    spend most of their time importing torch again in a new interpreter. The tests that need
    a real process (signals, pipes, a terminal, the entry point) use run()."""
    from cnn_tui.cli import main

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    saved = {name: signal.getsignal(getattr(signal, name)) for name in names}  # `run` installs its own
    capsys.readouterr()
    try:
        code = main(list(args))
    finally:
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["cnn-tui", *args], code, out, err)


def test_there_are_offline_and_real_data_recipes():
    assert "scratch_cnn" in OFFLINE and len(OFFLINE) >= 3
    assert {"lenet5_mnist", "resnet_cifar10"} <= set(ONLINE)
    assert STYLE_OFFLINE and STYLE_ONLINE == ["vgg19_style_transfer"]
    kinds = {r["kind"] for r in RECIPES if r["name"] in OFFLINE}
    assert kinds == {"scratch", "feature_extraction", "fine_tuning", "style_transfer"}  # one offline of each


@pytest.mark.parametrize("name", STYLE_ONLINE)
def test_style_recipes_needing_weights_fail_offline_with_one_line(name, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    result = run_here(capsys, "run", name, "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "feature_net.weights: the ImageNet weights for vgg19" in lines[0], result.stderr
    assert "internet" in lines[0] and not (tmp_path / "runs").exists()


def test_style_run_headless_prints_losses_and_the_final_image(tmp_path, cli_env):
    result = run("run", "style_transfer_random_net", "--out", str(tmp_path / "runs"), "--set", "image_size=48",
                 "--set", "steps=6", "--set", "content_layers=[relu3_1]",
                 "--set", "style_layers=[relu1_1,relu2_1,relu3_1]", env=cli_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "style_transfer_random_net (style_transfer): optimising an image with random" in out
    assert "- final image: images/final.png" in out and "The style loss fell" in out
    assert "completed: optimised the image for 6 steps" in out and "s/step); total " in out
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "images" / "final.png").is_file()


def test_list_shows_every_builtin_recipe():
    result = run("list")
    assert result.returncode == 0
    for r in RECIPES:
        assert r["name"] in result.stdout


@pytest.mark.parametrize("name", [r["name"] for r in RECIPES if r["dataset"] != "image_folder"])
def test_every_builtin_recipe_validates(name, capsys):
    result = run_here(capsys, "validate", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ") and " parameters (" in result.stdout
    assert "MACs per image" in result.stdout and " RF " in result.stdout  # the course's layer arithmetic
    if not any(r["name"] == name and r["kind"] == "style_transfer" for r in RECIPES):
        assert "\ndata: " in result.stdout and "test" in result.stdout  # where the test score comes from


@pytest.mark.parametrize("name", [r["name"] for r in RECIPES if r["dataset"] == "image_folder"
                                  and not r["name"].startswith("dogs_vs_cats")])  # tests/e2e/test_ladder.py
def test_folder_recipes_validate_their_folder(name, tmp_path, capsys):
    """The shipped folder recipe points at a placeholder: validate says so; pointed at a course-style
    tree it says what it found."""
    result = run_here(capsys, "validate", name)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "data.path: " in result.stderr and "is not a folder" in result.stderr
    from tests.dataset_files import image_tree

    for split, count in (("train", 4), ("validation", 2), ("test", 3)):
        image_tree(tmp_path / "cats_and_dogs_small" / split, {"cats": count, "dogs": count})
    result = run_here(capsys, "validate", name, "--set", f"data.path={tmp_path / 'cats_and_dogs_small'}")
    assert result.returncode == 0, result.stderr
    assert "data: splits from folders train/ validation/ test/ in " in result.stdout
    assert "train 8 / val 4 / test 6, 2 classes: cats, dogs" in result.stdout


@pytest.mark.parametrize("name", OFFLINE)
def test_dry_run_of_every_offline_recipe(name, tmp_path, capsys):
    result = run_here(capsys, "run", name, "--dry-run", "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "completed" in result.stdout
    assert not (tmp_path / "runs").exists()  # a dry run writes nothing


@pytest.mark.parametrize("name", ONLINE)
def test_real_data_recipes_offline_fail_with_one_line(name, tmp_path, capsys):
    result = run_here(capsys, "run", name, "--out", str(tmp_path / "runs"), "--set",
                      f"data.root={tmp_path / 'empty'}", "--set", "data.download=false")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not in" in lines[0] and "internet" in lines[0], result.stderr
    assert not (tmp_path / "runs").exists()


def test_full_run_non_tty_output_and_run_directory(tiny_recipe_path, tmp_path, cli_env):
    out = tmp_path / "runs"
    result = run("run", str(tiny_recipe_path), "--out", str(out), "--epochs", "2", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout and "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("epoch") and "val acc" in line for line in lines)
    assert lines[-2].startswith("completed:") and lines[-1].startswith("run directory:")
    (run_dir,) = out.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_completed"] == 2
    resolved = yaml.safe_load((run_dir / "recipe.yaml").read_text())
    assert resolved["train"]["epochs"] == 2 and resolved["data"]["shapes"]["num_train"] == 96


def test_bad_recipe_exit_2_one_line_no_run_dir(tmp_path, cli_env):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain:\n  epochs: -1\n")
    result = run("run", str(bad), "--out", str(tmp_path / "runs"), env=cli_env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"cnn-tui: error: {bad}:3: train.epochs: ")
    assert not (tmp_path / "runs").exists()
    assert run("run", "no_such_recipe", env=cli_env).returncode == 2
    assert run("validate", str(bad), env=cli_env).returncode == 2


def test_events_on_stdout_are_json_lines(tiny_recipe_path, tmp_path, cli_env):
    result = run("run", str(tiny_recipe_path), "--dry-run", "--events", "-", env=cli_env)
    assert result.returncode == 0
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert types[0] == "run_started" and types[-1] == "finished"
    assert "completed" in result.stderr  # the human-readable output moved to stderr


def wait_for_step(run_parent: Path, proc: subprocess.Popen, timeout: float = 120) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        for events in run_parent.glob("*/events.jsonl"):
            if '"type":"step"' in events.read_text():
                return events.parent
        time.sleep(0.1)
    raise AssertionError("no step event")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_saves_and_exits_130_then_resume_finishes(sig, tiny_recipe_path, tmp_path, cli_env):
    out = tmp_path / "runs"
    proc = subprocess.Popen(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(out), "--epochs", "400"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env)
    run_dir = wait_for_step(out, proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and sig.name in summary["reason"]
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    if sig != signal.SIGINT:
        return
    steps = summary["steps"]
    resumed = run("run", "--resume", str(run_dir), "--epochs", str(summary["epochs_completed"] + 1),
                  "--allow-changes", env=cli_env)  # fewer epochs than the recipe's: a change, said so
    assert resumed.returncode == 0, resumed.stderr
    assert f"step {steps}" in resumed.stdout
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"


def test_control_stdin_stop_and_eof(tiny_recipe_path, tmp_path, cli_env):
    out = tmp_path / "runs"
    proc = subprocess.Popen(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(out), "--epochs", "400",
                                        "--control-stdin", "--quiet"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=cli_env)
    wait_for_step(out, proc)
    proc.stdin.write("pause\nresume\nstop\n")
    proc.stdin.flush()
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    # closing the control channel without 'detach' (the dashboard died) also stops cleanly
    proc = subprocess.Popen(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(out), "--epochs", "400",
                                        "--control-stdin", "--quiet"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=cli_env)
    time.sleep(0.5)
    proc.stdin.close()
    proc.wait(timeout=120)
    assert proc.returncode == 130


def test_resume_needs_a_run_directory(tmp_path, cli_env):
    result = run("run", "--resume", str(tmp_path / "nope"), env=cli_env)
    assert result.returncode == 2 and "recipe.yaml" in result.stderr


def test_run_on_split_folders_with_different_classes_is_one_line_and_writes_nothing(tmp_path, cli_env):
    from tests.dataset_files import image_tree

    image_tree(tmp_path / "data" / "train", {"cats": 3, "dogs": 3})
    image_tree(tmp_path / "data" / "val", {"cats": 2, "wolves": 2})
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"kind: scratch\nname: r\ndata: {{dataset: image_folder, path: {tmp_path / 'data'}}}\n")
    result = run("run", str(recipe), "--out", str(tmp_path / "runs"), env=cli_env)
    assert result.returncode == 2 and not (tmp_path / "runs").exists()
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"cnn-tui: error: {recipe}: data.path: the splits' class folders differ")
    assert "val/ lacks dogs; val/ has wolves, which train/ lacks" in line


def test_predict_from_the_command_line(tmp_path, cli_env):
    result = run("predict", "--backbone", "efficientnet_lite0", str(ROOT / "recipes" / "images" / "chelsea.jpg"),
                 "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    (prediction,) = json.loads(result.stdout)["predictions"]
    assert prediction["top"][0]["class"] in {"tabby", "tiger cat", "Egyptian cat"}


@pytest.mark.timeout(300)
def test_compare_runs_each_recipe_per_seed_and_tables_the_summaries(tiny_recipe_path, tmp_path, cli_env):
    other = tmp_path / "tiny_wide.yaml"
    other.write_text(tiny_recipe_path.read_text().replace("name: tiny", "name: tiny_wide")
                     .replace("vgg_config: [4, M, 8, M]", "vgg_config: [8, M, 16, M]"))
    out = tmp_path / "cmp"
    result = run("compare", str(tiny_recipe_path), str(other), "--seeds", "2", "--set", "train.epochs=2",
                 "--out", str(out), env=cli_env)
    assert result.returncode == 0, result.stderr
    summaries = [json.loads(p.read_text()) for p in sorted(out.glob("*/summary.json"))]
    assert sorted(s["recipe"] for s in summaries) == ["tiny", "tiny", "tiny_wide", "tiny_wide"]
    assert all(s["epochs_completed"] == 2 for s in summaries)  # --set reached every run
    lines = result.stdout.strip().splitlines()
    table = {line.split()[0]: line for line in lines[-3:-1]}
    assert lines[-4].split()[:8] == ["recipe", "kind", "params", "MACs", "train", "acc", "best", "val"]
    assert set(table) == {"tiny", "tiny_wide"}
    for name, line in table.items():
        (params,) = {s["params"] for s in summaries if s["recipe"] == name}
        assert line.split()[2] == f"{params:,}"
        accs = [s["best"]["val/acc"] for s in summaries if s["recipe"] == name]
        mean = sum(accs) / 2
        sd = abs(accs[0] - accs[1]) / 2  # population sd of two runs
        assert f"{mean:.1%} ± {sd:.1%}" in line, (line, accs)
        trained = [s["final"]["train/acc"] for s in summaries if s["recipe"] == name]
        assert line.split()[4] == f"{sum(trained) / 2:.1%}"  # the last epoch's, mean over the seeds
        walls = [s["wall_seconds"] for s in summaries if s["recipe"] == name]
        assert line.endswith(f"{sum(walls) / 2:.1f}s")
    assert lines[-1] == ("(MACs per image; mean ± sd over 2 seed(s); train acc: the last epoch's; "
                         "best epoch of each run by val/acc)")
    seeds = sorted((s["recipe"], yaml.safe_load((out / s["run_id"] / "recipe.yaml").read_text())["seed"])
                   for s in summaries)
    assert seeds == [("tiny", 3), ("tiny", 4), ("tiny_wide", 3), ("tiny_wide", 4)]


def test_compare_refuses_no_seeds(tiny_recipe_path, cli_env):
    result = run("compare", str(tiny_recipe_path), "--seeds", "0", env=cli_env)
    assert result.returncode == 2 and result.stderr.strip() == "cnn-tui: error: --seeds: needs at least 1"


def test_run_recipe_with_resume_goes_on_when_it_is_the_runs_own_recipe(tiny_recipe_path, tmp_path, capsys):
    """Interrupted in-process at step 4; `run RECIPE --resume` finishes it; a changed recipe is refused."""
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.train.control import RunControl
    from tests.helpers import run_collect, stop_at

    control = RunControl()
    recipe, _ = load_recipe(tiny_recipe_path)
    result, _ = run_collect(recipe, tmp_path / "runs", control, stop_at(4, control))
    assert result.status == "interrupted"
    changed = tmp_path / "changed.yaml"
    changed.write_text(tiny_recipe_path.read_text().replace("lr: 0.05", "lr: 0.5"))
    refused = run_here(capsys, "run", str(changed), "--resume", str(result.run_dir))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "not the recipe of" in refused.stderr and "train.optimizer.lr: run 0.05, changed.yaml 0.5" in refused.stderr
    resumed = run_here(capsys, "run", str(tiny_recipe_path), "--resume", str(result.run_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch" in resumed.stdout
    assert json.loads((result.run_dir / "summary.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("content", [
    "word " * 20_000,  # one huge plain scalar
    '"' + "quoted text " * 5_000 + '"',
    "|\n" + "  block line\n" * 5_000,  # a block scalar, many lines
    "12345678901234567890" * 500,  # a number-like scalar
], ids=["words", "quoted", "block", "digits"])
def test_validate_on_a_file_that_is_not_a_recipe_quotes_at_most_60_characters(content, tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text(content)
    result = run_here(capsys, "validate", str(path))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert len(line) < len(str(path)) + 180 and line.startswith(f"cnn-tui: error: {path}: ")
    if "got a single value (" in line:
        assert len(line.split("got a single value (", 1)[1].rstrip(")")) <= 60


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_feature_map_layer_not_in_the_model_is_one_line_listing_its_layers(command, tiny_recipe_path, tmp_path,
                                                                           capsys):
    out = tmp_path / "runs"
    extra = ["--out", str(out)] if command == "run" else []
    result = run_here(capsys, command, str(tiny_recipe_path), "--set", "views.feature_maps=[conv1_1, features.3]",
                      *extra)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(tiny_recipe_path) in line
    assert "views.feature_maps: 'features.3' is not a layer of this model; its conv layers are: conv1_1, conv2_1" \
        in line
    assert not out.exists() or not any(out.iterdir())  # nothing half-written
