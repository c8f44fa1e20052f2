"""What the units learned: top-activating patches cut from each unit's real receptive field (a
hand-built network whose channel detects a known pattern), and the 2-D feature map's silhouette
score (against a brute-force silhouette, and rising as scratch_cnn learns)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn as nn

from cnn_tui.insight.embedding import NO_SKLEARN, TSNE_FILE, Kept, project, silhouette, with_tsne
from cnn_tui.insight.patches import TopPatchCollector, receptive_fields
from cnn_tui.recipes.loader import load_recipe
from tests.helpers import of_type, run_collect
from tests.unit.test_gradcam import RECIPES

PLUS = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])


def plus_detector() -> nn.Sequential:
    """conv1's channel 0 fires on a bright plus sign (zero-mean weights: flat areas give 0), channel 1
    on brightness; conv2 (3 x 3, so a 5 px field) passes channel 0 on at its centre."""
    conv1 = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    conv2 = nn.Conv2d(2, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv1.weight[0, 0] = PLUS - PLUS.mean()
        conv1.weight[1, 0] = 1.0 / 9
        conv2.weight.zero_()
        conv2.weight[0, 0, 1, 1] = 1.0
    return nn.Sequential(conv1, nn.ReLU(), conv2, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 2))


def images_with_plus(n: int, seed: int) -> tuple[torch.Tensor, list[tuple[int, int] | None]]:
    """Noise images; every third has a bright plus centred at a random (row, col)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 16, 16, generator=gen) * 0.3
    where: list[tuple[int, int] | None] = []
    for i in range(n):
        if i % 3:
            where.append(None)
            continue
        r, c = (int(v) for v in torch.randint(2, 14, (2,), generator=gen))
        x[i, 0, r - 1:r + 2, c - 1:c + 2] = torch.maximum(x[i, 0, r - 1:r + 2, c - 1:c + 2], PLUS * 2)
        where.append((r, c))
    return x, where


def collect(model, layers, batches, channels=2):
    x0 = batches[0]
    fields = receptive_fields(model, x0, layers)
    collector = TopPatchCollector(model, layers, fields, channels)
    model.eval()
    with torch.no_grad():
        for x in batches:
            logits = model(x)
            collector.add(x, torch.zeros(len(x), dtype=torch.long), logits)
    return fields, collector.finish()


def test_top_patches_are_the_units_receptive_field_around_the_pattern():
    model = plus_detector()
    x, _ = images_with_plus(60, seed=0)
    fields, best = collect(model, ["0", "2"], list(x.split(16)))
    assert fields == {"0": 3, "2": 5}  # 3 x 3; then 3 + 2
    values, patches = best["0"]
    assert patches.shape == (6, 2, 1, 3, 3)  # 6 patches per channel, each the unit's 3 x 3 field
    assert values[:, 0].tolist() == sorted(values[:, 0].tolist(), reverse=True)
    for k in range(6):  # the plus detector's best patches are the pluses, centred
        patch = patches[k, 0, 0]
        corr = torch.corrcoef(torch.stack([patch.flatten(), PLUS.flatten()]))[0, 1]
        assert corr > 0.9, (k, patch)
    _, deep = best["2"]
    assert deep.shape[-1] == 5
    centre = deep[0, 0, 0, 1:4, 1:4]  # conv2 passes conv1's channel 0 on: the plus is in the middle of 5 x 5
    assert torch.corrcoef(torch.stack([centre.flatten(), PLUS.flatten()]))[0, 1] > 0.9


def test_silhouette_equals_the_definition():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(40, 5, generator=gen)
    y = torch.randint(0, 3, (40,), generator=gen)
    y[0] = 3  # a class of one point scores 0
    d = torch.cdist(x.double(), x.double())
    scores = []
    for i in range(40):
        same = (y == y[i]) & (torch.arange(40) != i)
        if not same.any():
            scores.append(0.0)
            continue
        a = d[i, same].mean()
        b = min(d[i, y == c].mean() for c in y.unique() if c != y[i])
        scores.append(float((b - a) / max(a, b)))
    assert silhouette(x, y) == pytest.approx(sum(scores) / 40, abs=1e-5)
    assert silhouette(x, torch.zeros(40, dtype=torch.long)) is None


def test_pca_keeps_the_spread_direction_and_leaves_the_training_rng_alone():
    gen = torch.Generator().manual_seed(2)
    line = torch.randn(200, 1, generator=gen) * torch.tensor([[3.0, 0.0, 4.0]])  # all variance along (3, 0, 4)
    torch.manual_seed(7)
    before = torch.rand(3)
    torch.manual_seed(7)
    coords, explained = project(line + 0.01 * torch.randn(200, 3, generator=gen))
    assert torch.equal(torch.rand(3), before)  # PCA's random projections came from a forked generator
    assert explained > 0.99 and coords.shape == (200, 2)


@pytest.mark.timeout(240)
def test_classes_separate_more_at_the_last_epoch_than_at_the_first(tmp_path):
    recipe = load_recipe(RECIPES / "scratch_cnn.yaml", [
        "train.epochs=4", "data.shapes.num_train=1200", "data.shapes.num_val=200", "views.gradcam=false",
        "views.top_patches=false", "views.feature_maps=[]", "views.mistakes=0", "views.budget=1",
        "train.early_stopping.enabled=false"])[0]
    result, events = run_collect(recipe, tmp_path / "runs")
    *maps, end = of_type(events, "embedding")
    assert len(maps) == 4 and all(m.points == 200 and m.path and not m.tsne for m in maps)
    assert maps[-1].silhouette > maps[0].silhouette, [m.silhouette for m in maps]
    assert (result.run_dir / maps[-1].path).stat().st_size > 0
    # the run's end: the last epoch again, its same 200 points by t-SNE beside the PCA picture
    assert (end.epoch, end.path, end.silhouette) == (4, maps[-1].path, maps[-1].silhouette)
    assert end.tsne == maps[-1].path.replace("embedding.png", TSNE_FILE) and end.tsne_points == 200
    assert (result.run_dir / end.tsne).stat().st_size > 0 and not end.tsne_note


def test_tsne_keeps_apart_what_is_apart_and_says_in_one_line_when_sklearn_is_missing(tmp_path, monkeypatch):
    import sys

    from cnn_tui.contract.events import Embedding
    from cnn_tui.insight.embedding import tsne

    gen = torch.Generator().manual_seed(3)
    centres = torch.randn(3, 16, generator=gen) * 6
    labels = torch.arange(90) % 3
    features = centres[labels] + torch.randn(90, 16, generator=gen)
    loaded = {name for name in sys.modules if name.split(".")[0] == "sklearn"}
    coords = tsne(features)
    # the training process imports none of scikit-learn (not even to ask for its t-SNE): its child does
    assert {name for name in sys.modules if name.split(".")[0] == "sklearn"} == loaded
    assert coords.shape == (90, 2) and silhouette(coords, labels) > 0.5  # three clusters in, three out
    assert silhouette(tsne(features[torch.randperm(90, generator=gen)]), labels) < 0.2  # labels that do not fit
    kept = Kept(Embedding(epoch=2, step=9, path="views/epoch-002/embedding.png"), features, labels, labels, [0, 1, 2])
    drawn = with_tsne(kept, tmp_path)
    assert drawn.tsne == "views/epoch-002/embedding-tsne.png" and drawn.tsne_points == 90 and drawn.tsne_seconds > 0
    assert (tmp_path / drawn.tsne).stat().st_size > 0
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if scikit-learn were not installed
    missing = with_tsne(kept, tmp_path / "other")
    assert missing.tsne == "" and missing.tsne_note == NO_SKLEARN and not (tmp_path / "other").exists()
    monkeypatch.delitem(sys.modules, "sklearn")
    fake = tmp_path / "fake"  # a scikit-learn without its t-SNE: the child says so (exit 3)
    (fake / "sklearn").mkdir(parents=True)
    (fake / "sklearn" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")]))
    partial = with_tsne(kept, tmp_path / "partial")
    assert partial.tsne == "" and partial.tsne_note == NO_SKLEARN and not (tmp_path / "partial").exists()


def test_a_crashing_or_diverged_tsne_costs_its_picture_only(tmp_path, monkeypatch):
    """scikit-learn's Barnes-Hut t-SNE once died of a segmentation fault inside a training process at
    the end of a run (CI, 2026-12-06): in its own process, a crash or a diverged run's features give
    one note and no picture, and the caller goes on."""
    from cnn_tui.contract.events import Embedding
    from cnn_tui.insight import embedding

    labels = torch.arange(30) % 3
    features = torch.randn(30, 8, generator=torch.Generator().manual_seed(0))
    kept = Kept(Embedding(epoch=2, step=9, path="views/epoch-002/embedding.png"), features, labels, labels, [0, 1, 2])
    (tmp_path / "crash_child.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(embedding, "TSNE_CHILD", "crash_child")
    crashed = with_tsne(kept, tmp_path / "a")
    assert crashed.tsne == "" and crashed.tsne_note.startswith("no t-SNE: scikit-learn's t-SNE process ended")
    assert not (tmp_path / "a").exists()
    diverged = features.clone()
    diverged[3, 2] = float("nan")
    gone = with_tsne(Kept(kept.event, diverged, labels, labels, [0, 1, 2]), tmp_path / "b")
    assert gone.tsne == "" and "not finite" in gone.tsne_note and not (tmp_path / "b").exists()
    dead = with_tsne(Kept(kept.event, torch.zeros(30, 8), labels, labels, [0, 1, 2]), tmp_path / "c")
    assert dead.tsne == "" and "the same features" in dead.tsne_note and not (tmp_path / "c").exists()


def test_activation_maximisation_of_the_plus_detector_draws_a_plus():
    from cnn_tui.insight.dream import maximise

    model = plus_detector()
    torch.manual_seed(5)
    before = torch.rand(2)
    torch.manual_seed(5)
    x = maximise(model, "0", [0, 1], (1, 15, 15), torch.tensor([-1.0]), torch.tensor([1.0]), jitter=1)
    assert torch.equal(torch.rand(2), before)  # its jitter has a generator of its own
    assert all(p.grad is None for p in model.parameters())  # the weights were never touched
    centre = x[0, 0, 6:9, 6:9]  # the centre unit's 3 x 3 field
    assert torch.corrcoef(torch.stack([centre.flatten(), PLUS.flatten()]))[0, 1] > 0.9, centre
    assert x[1, 0, 6:9, 6:9].mean() > 0.5  # the brightness channel wants a bright patch
