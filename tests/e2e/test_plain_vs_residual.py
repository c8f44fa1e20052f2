"""He et al.'s motivating experiment on the built-in shapes: `compare` of the 38-layer plain net and
its residual twin over two seeds. The plain net ends lower in training accuracy (degradation is
about training error) and in held-out accuracy, and only the plain runs are told they underfit (on
the small images, with their fading early-layer gradients named). As shipped it is an experiment
(minutes per run); CI runs the same pair on smaller, fewer images (slow, about 80 s of CPU).
Measured numbers: docs/plain_vs_residual.md."""

from __future__ import annotations

import json

import pytest

from cnn_tui.recipes.loader import load_recipe
from tests.e2e.test_cli import run_here

PAIR = ["plain_shapes_deep", "resnet_shapes_deep"]


def test_the_twins_differ_only_in_their_shortcuts():
    plain, residual = (load_recipe(name)[0] for name in PAIR)
    assert plain.model.shortcut == "none" and residual.model.shortcut == "identity"
    plain.model.shortcut = residual.model.shortcut
    assert plain.model == residual.model and plain.train == residual.train and plain.data == residual.data


@pytest.mark.experiment  # 24 epochs of two deep nets: `make experiments`, never in make check
@pytest.mark.timeout(3600)
def test_compare_shows_the_plain_net_degrade(tmp_path, capsys):
    result = run_here(capsys, "compare", *PAIR, "--seeds", "2", "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    header = next(line for line in lines if line.split()[:2] == ["recipe", "kind"])
    assert "train acc" in header
    rows = {line.split()[0]: line for line in lines if line.split()[:1] and line.split()[0] in PAIR}
    cells = {name: [float(cell.rstrip("%")) for cell in rows[name].split() if cell.endswith("%")] for name in PAIR}
    (plain_train, plain_val, *_), (residual_train, residual_val, *_) = cells[PAIR[0]], cells[PAIR[1]]
    assert residual_train > plain_train + 10 and residual_val > plain_val + 10, result.stdout
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/summary.json")]
    for summary in summaries:  # seed by seed, not just on average
        if summary["recipe"] == PAIR[1]:
            assert summary["best"]["val/acc"] > 0.7, summary["best"]
    # measured 6 Dec 2026: underfitting said on plain seed 0 (general advice), not on seed 1 (its loss
    # fell under half of chance's), never on a residual run (docs/plain_vs_residual.md)
    told = {name: [m for run in (tmp_path / "runs").glob(f"{name}-*") for m in diagnoses(run)
                   if m.startswith("Underfitting")] for name in PAIR}
    assert told[PAIR[0]] and not told[PAIR[1]], told


# The pair at 16 px on 1,200 training images (400 held out for the test) for 10 epochs: the same 38
# layers, about 20 s of CPU a run. Measured (docs/plain_vs_residual.md, "In CI"), test accuracy:
# seed 0 residual 74.0% vs plain 29.75%, seed 1 69.0% vs 33.25%: gaps of 44.25 and 35.75 points.
SMALL = ["data.image_size=16", "data.shapes.num_train=1600", "data.shapes.num_val=300", "data.test_split=0.25",
         "train.epochs=10"]
# Each seed's residual net must beat its plain twin by this many points of test accuracy: the
# smaller measured gap less 20 points, over twice the 8.5 points the gap moved between the two
# seeds (the shipped pair's gap moved about 20 between its seeds); 400 test images put about
# 2.4 points of sampling noise on each accuracy.
MARGIN = 15.0


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 80 s of CPU; a crowded machine took 15 min for three of its four runs
def test_compare_shows_the_plain_net_degrade_on_small_images(tmp_path, capsys):
    out = tmp_path / "runs"
    result = run_here(capsys, "compare", *PAIR, "--seeds", "2", "--out", str(out),
                      *[arg for field in SMALL for arg in ("--set", field)])
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.split()[:2] == ["recipe", "kind"])
    assert "train acc" in header and "test acc" in header, result.stdout
    runs = {}
    for path in out.glob("*/summary.json"):
        summary = json.loads(path.read_text())
        recipe = load_recipe(str(path.parent / "recipe.yaml"))[0]
        runs[summary["recipe"], recipe.seed] = (summary, path.parent)
    assert sorted(runs) == sorted((name, seed) for name in PAIR for seed in (0, 1))
    for seed in (0, 1):  # seed by seed: the residual net wins on held-out images, and fits its own
        (plain, _), (residual, _) = runs[PAIR[0], seed], runs[PAIR[1], seed]
        gap = 100 * (residual["test"]["test/acc"] - plain["test"]["test/acc"])
        assert gap >= MARGIN, (seed, gap, result.stdout)
        assert residual["final"]["train/acc"] > plain["final"]["train/acc"] + MARGIN / 100, (seed, result.stdout)
        for name, expected in ((PAIR[0], True), (PAIR[1], False)):  # the plain net is told it underfits
            assert any(m.startswith("Underfitting") for m in diagnoses(runs[name, seed][1])) == expected, (name, seed)
    # and why, on at least one seed (measured: 3.6x weaker on seed 0; on seed 1 under the rule's 2x)
    said = [m for seed in (0, 1) for m in diagnoses(runs[PAIR[0], seed][1])]
    assert any("Underfitting" in m and "weaker than its last layers'" in m for m in said), said


def diagnoses(run_dir) -> list[str]:
    events = (json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines())
    return [e["message"] for e in events if e.get("type") == "diagnosis"]
