"""He et al.'s motivating experiment on the built-in shapes, as shipped: `compare` of the 38-layer
plain net and its residual twin over two seeds. The plain net ends lower in training accuracy
(degradation is about training error) and in validation accuracy, and its run says why (the
underfitting diagnosis names its fading early-layer gradients). Measured numbers:
docs/plain_vs_residual.md."""

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
    events = [json.loads(line) for p in (tmp_path / "runs").glob("plain_shapes_deep-*/events.jsonl")
              for line in p.read_text().splitlines()]
    said = [e["message"] for e in events if e.get("type") == "diagnosis"]
    assert any("Underfitting" in m and "weaker than its last layers'" in m for m in said), said
