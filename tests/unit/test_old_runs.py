"""Run folders written by an earlier cnn-tui (tests/data/old_runs, checkpoint format 1, the seed
offsets before the per-purpose streams) still resume exactly and still open."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from cnn_tui.recipes.loader import load_recipe
from cnn_tui.record.rundir import read_events, read_summary
from cnn_tui.train.checkpoint import load_checkpoint
from tests.helpers import of_type, run_collect

OLD = Path(__file__).resolve().parent.parent / "data" / "old_runs"


def _copy(name: str, tmp_path: Path) -> Path:
    run_dir = tmp_path / name
    shutil.copytree(OLD / name, run_dir)
    return run_dir


def _epochs(events: list) -> list[tuple[int, int, dict[str, float]]]:
    return [(e.epoch, e.step, e.metrics) for e in of_type(events, "epoch")]


@pytest.mark.timeout(120)
def test_an_old_interrupted_run_resumes_to_what_the_old_code_reached(tmp_path):
    """The old code's uninterrupted run (finished/) is what resuming its interrupted twin must give:
    the same epochs (so the same data order, augmentation and dropout draws), weights and counters."""
    run_dir = _copy("interrupted", tmp_path)
    recipe, _ = load_recipe(run_dir / "recipe.yaml", [])
    result, events = run_collect(recipe, tmp_path, resume=run_dir)
    assert result.status == "completed", result.summary.get("reason")
    start = of_type(events, "run_started")[0]
    assert start.resumed and start.start_step == 6 and start.start_epoch == 1
    finished = read_events(OLD / "finished")
    resumed, reached = _epochs(events), _epochs(finished)[1:]
    assert [(e, s, sorted(m)) for e, s, m in resumed] == [(e, s, sorted(m)) for e, s, m in reached]
    for (_, _, new_metrics), (_, _, old_metrics) in zip(resumed, reached):  # the validation loss is a float sum:
        assert new_metrics == pytest.approx(old_metrics, rel=1e-5)  # its order of additions may differ (1e-7)
    new = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    old = load_checkpoint(OLD / "finished" / "checkpoints" / "last.pt")
    # the same draws give the same weights up to float summation order (the thread count of the machine
    # that resumes: seen 1e-7 apart in CI); a different data order or init would be far outside this
    assert all(torch.allclose(new["model"][k].float(), old["model"][k].float(), rtol=1e-4, atol=1e-5)
               for k in old["model"])
    assert new["position"]["epoch"] == old["position"]["epoch"] == 3
    assert new["position"]["step"] == old["position"]["step"] == 12
    expected, got = dict(read_summary(OLD / "finished")["test"]), dict(result.summary["test"])
    assert got.pop("test/loss") == pytest.approx(expected.pop("test/loss"), rel=1e-5)  # a float sum, as above
    assert got == expected


def test_an_old_finished_run_opens(tmp_path):
    """`show` reads its record, `predict` (and export) its kept checkpoint."""
    from cnn_tui.commands.show import load
    from cnn_tui.engine.predict import from_run

    run_dir = _copy("finished", tmp_path)
    history, _ = load(run_dir)
    assert history.finished is not None and history.finished.status == "completed" and len(history.epochs) == 3
    classifier = from_run(run_dir)
    assert classifier.class_names == ["circle", "square", "cross"]
    assert classifier.source.endswith("best.pt (epoch 2)")
