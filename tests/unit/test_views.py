"""The views of a classifier's inside, over a family of runs: colour and grey images, in memory and
streamed from an ImageFolder, from scratch, fine-tuned and on precomputed features. Each run's
confusion matrices must agree with its own val/acc, mistakes must be real and most confident first,
and every picture an event names must be a PNG of the size it claims."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_tui.contract.confusion import accuracy, class_scores
from cnn_tui.contract.errors import RecipeError
from cnn_tui.insight.validation import ValidationCollector
from cnn_tui.recipes.loader import load_recipe
from tests.conftest import TINY_RECIPE
from tests.dataset_files import image_tree
from tests.helpers import of_type, run_collect
from tests.unit.test_transfer import FEATURES, FINE_TUNING


def _recipe(tmp_path, case):
    path = tmp_path / "r.yaml"
    if case == "colour":
        path.write_text(TINY_RECIPE)
    elif case == "grey":
        path.write_text(TINY_RECIPE.replace("image_size: 16", "image_size: 16\n  grayscale: true"))
    elif case == "streamed_folder":
        root = image_tree(tmp_path / "imgs", {"cat": 14, "dog": 12, "fox": 10}, size=(20, 14))
        path.write_text(TINY_RECIPE.replace("  dataset: shapes\n", f"  dataset: image_folder\n  path: {root}\n"
                                            "  loader: stream\n  workers: 0\n  val_split: 0.4\n"))
    elif case == "fine_tuning":
        path.write_text(FINE_TUNING.replace("grad_every_steps: 1", "grad_every_steps: 2"))
    elif case == "features":
        path.write_text(FEATURES.replace("CACHE", str(tmp_path / "cache")))
    return load_recipe(path, [])[0]


def _validation_labels(recipe) -> list[int]:
    """The labels of the validation split, in the order the run validates them (from the data
    loader itself, not from the run: what the run reports is checked against it)."""
    from cnn_tui.data.expected import PRETRAINED_CHANNELS
    from cnn_tui.data.sources import load_data

    channels = None if recipe.kind == "scratch" else PRETRAINED_CHANNELS  # as the classification kind loads it
    return load_data(recipe.data, recipe.seed, channels=channels).val.y.tolist()


CASES = ["colour", "grey", "streamed_folder", "fine_tuning", "features"]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("case", CASES)
def test_confusion_and_mistakes_agree_with_the_runs_own_metrics(tmp_path, case):
    recipe = _recipe(tmp_path, case)
    result, events = run_collect(recipe, tmp_path / "runs")
    run_dir = result.run_dir
    epochs = {e.epoch: e for e in of_type(events, "epoch")}
    reports = of_type(events, "confusion")
    assert [r.epoch for r in reports] == sorted(epochs) and reports
    num_val = of_type(events, "run_started")[0].num_val
    assert num_val == len(_validation_labels(recipe)) > 0
    for report in reports:
        val = epochs[report.epoch].metrics
        assert accuracy(report.matrix) == pytest.approx(val["val/acc"], abs=1e-12)  # the diagonal is val/acc
        assert sum(map(sum, report.matrix)) == num_val  # every validation image counted once
        scores = class_scores(report.matrix)
        assert [report.per_class[c]["f1"] for c in report.classes] == [s.f1 for s in scores]
        wrong = sum(map(sum, report.matrix)) - sum(report.matrix[i][i] for i in range(len(report.matrix)))
        assert len(report.mistakes) == min(recipe.views.mistakes, wrong)
        confidences = [m["confidence"] for m in report.mistakes]
        assert confidences == sorted(confidences, reverse=True)
        assert all(m["true"] != m["predicted"] and 1 / len(report.classes) <= m["confidence"] <= 1
                   for m in report.mistakes)
        for m in report.mistakes:
            if case == "features":  # the inputs were feature vectors: no picture to show
                assert m["path"] == ""
            else:
                with Image.open(run_dir / m["path"]) as thumb:
                    assert max(thumb.size) <= 64 and thumb.mode == ("L" if case == "grey" else "RGB")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["per_class"]["epoch"] == summary["best_epoch"]
    kept = next(r for r in reports if r.epoch == summary["best_epoch"])
    assert summary["confusion"]["matrix"] == kept.matrix


@pytest.mark.timeout(240)
@pytest.mark.parametrize("case", ["colour", "grey", "streamed_folder", "fine_tuning"])
def test_feature_maps_and_filters_are_pictures_of_the_layers_they_name(tmp_path, case):
    recipe = _recipe(tmp_path, case)
    result, events = run_collect(recipe, tmp_path / "runs")
    maps = of_type(events, "feature_maps")
    assert len(maps) == len(of_type(events, "epoch"))
    first = maps[0]
    classes = of_type(events, "run_started")[0].class_names
    assert set(classes) == set(result.summary["per_class"]["classes"])
    # the probe is the validation set's first image: its true class, every epoch
    assert {m.label for m in maps} == {classes[_validation_labels(recipe)[0]]}
    assert all(m.predicted in classes for m in maps)
    assert len(first.layers) >= 2 and len({layer["name"] for layer in first.layers}) == len(first.layers)
    for event in maps:
        for layer in event.layers:
            with Image.open(result.run_dir / layer["path"]) as picture:
                assert picture.mode == "L"
                h, w = layer["size"]
                side = int(np.ceil(np.sqrt(layer["shown"])))
                scale = max(1, int(np.ceil(12 / min(h, w))))
                assert picture.size == (side * (w * scale + 1) - 1, side * (h * scale + 1) - 1)
        with Image.open(result.run_dir / event.filters) as filters:
            assert filters.mode == ("L" if case == "grey" else "RGB")  # tiles in the input's colours
            assert filters.size[0] > 0
    probe = result.run_dir / first.input
    with Image.open(probe) as picture:
        assert picture.size == (recipe.data.image_size, recipe.data.image_size)
    # the filters move as the first layer learns (unless it is frozen: fine-tuning's head phase)
    if case != "fine_tuning":
        a = np.asarray(Image.open(result.run_dir / maps[0].filters))
        b = np.asarray(Image.open(result.run_dir / maps[-1].filters))
        assert (a != b).any()


def test_views_off_write_nothing_and_emit_nothing(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(TINY_RECIPE)
    recipe = load_recipe(path, ["views.feature_maps=[]", "views.filters=false", "views.confusion=false",
                                "views.mistakes=0", "views.health=false", "views.gradcam=false",
                                "views.embedding=false", "views.top_patches=false"])[0]
    result, events = run_collect(recipe, tmp_path / "runs")
    assert not [e for e in events if e.type in ("confusion", "feature_maps", "health", "gradcam", "embedding",
                                                 "top_patches")]
    assert not (result.run_dir / "views").exists()
    assert "per_class" not in result.summary


def test_an_unknown_feature_map_layer_is_a_recipe_error_naming_the_layers(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(TINY_RECIPE)
    recipe = load_recipe(path, ["views.feature_maps=[conv1_1, conv9]"])[0]
    with pytest.raises(RecipeError) as error:
        run_collect(recipe, tmp_path / "runs")
    message = str(error.value)
    assert message.startswith("views.feature_maps: 'conv9' is not a layer of this model; its conv layers are: ")
    assert "conv1_1, conv2_1" in message
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # nothing half-written


def test_chosen_layers_are_drawn_in_the_order_given(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(TINY_RECIPE)
    recipe = load_recipe(path, ["views.feature_maps=[conv2_1, conv1_1]", "views.feature_channels=3",
                                "train.epochs=1"])[0]
    _, events = run_collect(recipe, tmp_path / "runs")
    layers = of_type(events, "feature_maps")[0].layers
    assert [layer["name"] for layer in layers] == ["conv2_1", "conv1_1"] and {la["shown"] for la in layers} == {3}


@pytest.mark.parametrize("batch_sizes", [[7], [3, 5, 2], [1] * 9, [16, 16, 4]])
def test_the_collector_equals_a_brute_force_over_the_whole_set(batch_sizes):
    """Confusion counts and the k most confident mistakes, merged batch by batch, equal one pass
    over all of it, whatever the batching."""
    gen = torch.Generator().manual_seed(len(batch_sizes))
    n, classes, k = sum(batch_sizes), 4, 5
    logits = torch.randn(n, classes, generator=gen) * 3
    y = torch.randint(0, classes, (n,), generator=gen)
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()  # image i is i
    collector = ValidationCollector(classes, k, confusion=True, keep_probe=True)
    start = 0
    for size in batch_sizes:
        collector.add(x[start:start + size], y[start:start + size], logits[start:start + size])
        start += size
    matrix, mistakes = collector.finish()
    pred = logits.argmax(1)
    expected = [[int(((y == t) & (pred == p)).sum()) for p in range(classes)] for t in range(classes)]
    assert matrix == expected
    conf = logits.softmax(1).amax(1)
    wrong = [(float(conf[i]), i) for i in range(n) if pred[i] != y[i]]
    top = sorted(wrong, reverse=True)[:k]
    assert [round(m.confidence, 6) for m in mistakes] == [round(c, 6) for c, _ in top]
    assert [int(m.image[0, 0, 0]) for m in mistakes] == [i for _, i in top]  # the right images travel along
    assert collector.probe is not None and int(collector.probe[0][0, 0, 0, 0]) == 0


def test_a_thousand_classes_travel_as_pairs_not_a_million_counts(tmp_path):
    from cnn_tui.insight.views import ModelViews
    from cnn_tui.recipes.views_schema import Views

    n = 1000
    names = [f"n{i:04d}" for i in range(n)]
    views = ModelViews(Views(), nn_linear := torch.nn.Linear(4, n), names, tmp_path, gradient_ticks=False)
    assert views.layers == []  # no conv layer: no feature maps
    collector = views.collector()
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, n, (300,), generator=gen)
    logits = torch.randn(300, n, generator=gen)
    logits[torch.arange(300), y] += 3  # right more often than not
    x = torch.randn(300, 4)
    nn_linear(x)  # the forward the features are taken from (the logits are made up, to set the accuracy)
    collector.add(x, y, logits)
    events = views.after_validation(collector, nn_linear, 1, 10, torch.zeros(4), torch.ones(4), True)
    (report,) = of_type(events, "confusion")
    (cams,) = of_type(events, "gradcam")
    assert cams.note.startswith("no Grad-CAM") and not cams.pictures  # feature vectors: no picture to look at
    (spread,) = of_type(events, "embedding")
    assert len(spread.classes) == 10 and spread.points == 300  # coloured: the most confused classes only
    confused = {report.classes[c] for pair in report.pairs for c in pair[:2]}
    assert set(spread.classes) <= confused
    assert report.matrix == [] and len(report.per_class) == n
    hits = sum(int(s["support"] * s["recall"] + 0.5) for s in report.per_class.values())
    assert hits == int((logits.argmax(1) == y).sum())
    assert report.pairs and all(t != p and c >= 1 for t, p, c in report.pairs)
    assert len(json.dumps(report.to_dict())) < 200_000  # one line of events.jsonl, not megabytes
    assert views.summary()["confusion"]["top_pairs"] == report.pairs
