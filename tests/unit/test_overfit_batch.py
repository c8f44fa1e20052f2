"""run --overfit-batch: a model that can learn fits one batch; recipes made to fail are refused
with the cause the numbers point to (labels shuffled, a frozen net, too small an lr)."""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

import pytest

from cnn_tui.preflight.overfit import NEAR_ZERO, FitTrace, verdict
from tests.dataset_files import image_tree
from tests.e2e.test_cli import run_here

pytestmark = pytest.mark.timeout(180)


def _trace(**fields) -> FitTrace:
    base = dict(classes=3, lr=0.05, trainable=1000, losses=[1.1, 0.5, 0.01], grad_norms=[1.0, 0.5, 0.1],
                update_ratio=0.3, probe_acc=[0.33, 0.7], probe_loss=[1.1, 0.8], probe_images=64)
    return FitTrace(**{**base, **fields})


@pytest.mark.parametrize("fields, cause", [
    ({}, ""),
    ({"losses": [1.1, 0.5, 0.02, 0.0575]}, ""),  # dropout: one draw above near zero after one below it
    ({"trainable": 0}, "frozen"),
    ({"grad_norms": [0.0, 0.0, 0.0], "losses": [1.1, 1.1, 1.1]}, "zero_grads"),
    ({"probe_acc": [0.33, 0.36], "probe_loss": [1.1, 1.6]}, "labels"),  # no label check ran: a warning
    ({"probe_acc": [0.33, 0.36], "probe_loss": [1.1, 1.6], "label_acc": 0.36, "label_best_loss": 1.09,
      "label_images": 256, "label_steps": 100}, "labels"),  # the label check at chance too: refused
    ({"probe_acc": [0.33, 0.36], "probe_loss": [1.1, 1.6], "label_acc": 0.6, "label_best_loss": 0.9,
      "label_images": 256, "label_steps": 20}, ""),
    ({"probe_acc": [0.33, 0.36], "probe_loss": [1.1, 1.6], "label_acc": 0.36, "label_best_loss": 0.9,
      "label_images": 256, "label_steps": 30}, ""),  # its loss below 0.85 x log(3): learned, not memorised
    ({"losses": [1.1] * 30 + [0.3], "probe_acc": [0.33, 0.36], "probe_loss": [1.1, 1.12]}, "labels"),
    ({"losses": [2.2] * 30 + [2.1], "update_ratio": 0.001, "probe_acc": [0.33, 0.3]}, "lr_too_small"),
    ({"losses": [1.1, 1.0, 0.9, 0.8], "update_ratio": 0.001}, "lr_too_small"),
    ({"losses": [1.1, math.nan]}, "lr_too_large"),
    ({"classes": 6, "losses": [2.06] + [1.8] * 30 + [1.77], "update_ratio": 0.4}, "at_chance"),  # dead_relu_shapes
    ({"losses": [2.0] + [0.9] * 30 + [0.8], "update_ratio": 0.4}, "capacity"),
])
def test_the_verdict_names_the_cause(fields, cause):
    found = verdict(_trace(**fields))
    fitted = _trace(**fields).losses[-1] <= NEAR_ZERO
    # labels on a fitted batch without the label check (too few other images): only a warning
    warning = cause == "labels" and fitted and "label_acc" not in fields
    assert found.cause == cause and found.fits == (cause == "" or warning)


def test_a_model_that_can_learn_fits_one_batch(capsys, tiny_recipe_path):
    done = run_here(capsys, "run", str(tiny_recipe_path), "--overfit-batch")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fits" in done.stdout and "problem:" not in done.stdout  # a warning about the labels may come with it


FOLDER_RECIPE = """\
kind: scratch
name: folder
seed: 0
device: cpu
data: {{dataset: image_folder, path: {path}, image_size: 16, val_split: 0.2}}
model: {{arch: {arch}, {model}}}
train: {{epochs: 1, batch_size: 32, optimizer: {{name: adam, lr: 0.003}}}}
"""


def _folder(tmp_path: Path, shuffled: bool) -> Path:
    root = image_tree(tmp_path / "images", {"red": 150, "green": 150, "blue": 150}, size=(16, 16))
    if shuffled:  # each image moved to a class folder drawn at random: its label no longer follows it
        rng = random.Random(0)
        files = sorted(root.glob("*/*.png"))
        for i, path in enumerate(files):
            shutil.move(path, root / rng.choice(["red", "green", "blue"]) / f"s{i}.png")
    return root


def test_shuffled_labels_are_found(capsys, tmp_path):
    recipe = tmp_path / "shuffled.yaml"
    recipe.write_text(FOLDER_RECIPE.format(path=_folder(tmp_path, True), arch="vgg",
                                           model="vgg_config: [8, M, 16, M]"))
    done = run_here(capsys, "run", str(recipe), "--overfit-batch")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "problem:" in done.stdout and "the labels do not follow the images" in done.stdout, done.stdout
    assert "trained from its initial weights for 150 steps" in done.stdout  # the second test ran, all of it


def test_true_labels_in_the_same_folder_are_not_blamed(capsys, tmp_path):
    """The same net and folder, labels left as they are: no refusal, whatever the first probe said."""
    recipe = tmp_path / "true.yaml"
    recipe.write_text(FOLDER_RECIPE.format(path=_folder(tmp_path, False), arch="vgg",
                                           model="vgg_config: [8, M, 16, M]"))
    done = run_here(capsys, "run", str(recipe), "--overfit-batch")
    assert done.returncode == 0 and "warning:" not in done.stdout and "problem:" not in done.stdout, done.stdout


FROZEN_NET = """\
import torch.nn as nn


class Frozen(nn.Module):
    def __init__(self, num_classes, in_channels=3):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(in_channels, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(8, num_classes))
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        return self.body(x)
"""


def test_a_frozen_net_is_found(capsys, tmp_path):
    (tmp_path / "frozen.py").write_text(FROZEN_NET)
    recipe = tmp_path / "frozen.yaml"
    recipe.write_text(FOLDER_RECIPE.format(path=_folder(tmp_path, False), arch="python",
                                           model=f"path: {tmp_path / 'frozen.py'}, name: Frozen"))
    done = run_here(capsys, "run", str(recipe), "--overfit-batch")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the net is frozen (0 trainable parameters)" in done.stdout


def test_too_small_an_lr_is_found(load_tiny):
    import torch

    from cnn_tui.preflight.overfit import fit_one_batch
    from cnn_tui.preflight.session import Session

    trace = fit_one_batch(Session(load_tiny("train.optimizer.lr=1e-5"), torch.device("cpu")), max_steps=40)
    found = verdict(trace)
    assert found.cause == "lr_too_small" and "too small" in found.message, found


@pytest.mark.parametrize("extra, message", [
    (["--dry-run"], "not with --dry-run"),
    (["--resume", "somewhere"], "not with --resume"),
])
def test_bad_combinations_are_one_line_and_exit_2(capsys, tiny_recipe_path, extra, message):
    done = run_here(capsys, "run", str(tiny_recipe_path), "--overfit-batch", *extra)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


def test_style_transfer_is_refused(capsys):
    done = run_here(capsys, "run", "style_transfer_random_net", "--overfit-batch")
    assert done.returncode == 2 and "optimises the pixels of one image" in done.stderr and done.stderr.count("\n") == 1


def test_the_default_recipe_with_its_true_labels_is_not_refused(capsys):
    """scratch_cnn memorises its batch while other images stay at chance (20% against 17%), so the
    label check decides; at the recipe's full lr from random weights (no warm-up) the net stayed at
    chance for a whole epoch, which would refuse the course's default recipe."""
    done = run_here(capsys, "run", "scratch_cnn", "--overfit-batch")
    assert done.returncode == 0 and "ok: fits one batch" in done.stdout, done.stdout
