"""The user's own Python file (arch: python) runs only when they asked for it: `predict` and
`export --model` on a run say which file they import, and refuse one whose content changed since the
run (by sha256, kept in the run folder) unless --trust."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnn_tui.contract.user_code import SOURCE
from cnn_tui.recipes.loader import load_recipe
from tests.conftest import ROOT
from tests.e2e.test_cli import run_here
from tests.helpers import run_collect

pytestmark = pytest.mark.timeout(240)

IMAGE = str(ROOT / "recipes" / "images" / "chelsea.jpg")

NET = '''\
import os
from pathlib import Path

import torch.nn as nn

Path(os.environ["CNN_TUI_TEST_MARKER"]).write_text("imported")


class Net(nn.Module):
    def __init__(self, num_classes, in_channels):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(in_channels, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.head(self.body(x))
'''


@pytest.fixture
def user_run(tmp_path, monkeypatch) -> tuple[Path, Path, Path]:
    """(run folder, the model's .py file, the marker its import writes), after one short epoch."""
    marker = tmp_path / "imported.marker"
    monkeypatch.setenv("CNN_TUI_TEST_MARKER", str(marker))
    net = tmp_path / "net.py"
    net.write_text(NET)
    recipe_path = tmp_path / "r.yaml"
    recipe_path.write_text("kind: scratch\nname: mine\ndevice: cpu\nmodel: {arch: python, path: net.py, name: Net}\n"
                           "data: {dataset: shapes, image_size: 16, shapes: {num_train: 32, num_val: 16, "
                           "classes: [circle, square]}}\ntrain: {epochs: 1, batch_size: 16}\n")
    result, _ = run_collect(load_recipe(recipe_path)[0], tmp_path / "runs")
    assert result.status == "completed" and result.run_dir is not None
    marker.unlink()
    return result.run_dir, net, marker


def test_the_run_records_the_files_hash(user_run):
    import hashlib

    run_dir, net, _ = user_run
    recorded = json.loads((run_dir / SOURCE).read_text())
    assert recorded == {"path": str(net), "sha256": hashlib.sha256(net.read_bytes()).hexdigest()}


def test_predict_names_the_file_it_imports(user_run, capsys):
    run_dir, net, marker = user_run
    result = run_here(capsys, "predict", str(run_dir), IMAGE)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"cnn-tui: {run_dir}: its model is your Python code: importing {net} (sha256 ")
    assert "unchanged since the run" in result.stderr and marker.exists()
    assert result.stdout.startswith(f"{IMAGE}: ")


@pytest.mark.parametrize("command", [["predict", "{run}", IMAGE], ["export", "{run}", "{tmp}/net.pt", "--model",
                                                                    "torchscript"]])
@pytest.mark.parametrize("how", ["changed", "unrecorded"])
def test_a_changed_or_unrecorded_file_is_refused_unread_unless_trust(user_run, capsys, tmp_path, command, how):
    run_dir, net, marker = user_run
    if how == "changed":
        net.write_text(NET + "\nprint('something else now')\n")
    else:
        (run_dir / SOURCE).unlink()
    argv = [a.format(run=run_dir, tmp=tmp_path) for a in command]
    result = run_here(capsys, *argv)
    assert result.returncode == 2 and result.stdout == ""
    why = "changed since the run trained it" if how == "changed" else "not recorded by the run"
    assert result.stderr == (f"cnn-tui: error: {run_dir}: its model is the Python file {net}, whose content is "
                             f"{result.stderr.split('whose content is ')[1]}")
    assert why in result.stderr and "pass --trust to" in result.stderr and result.stderr.count("\n") == 1
    assert not marker.exists(), "the file was imported although it was refused"
    assert not (tmp_path / "net.pt").exists()
    result = run_here(capsys, *argv, "--trust")
    assert result.returncode == 0, result.stderr
    assert f"importing {net}" in result.stderr and "(--trust)" in result.stderr and marker.exists()
