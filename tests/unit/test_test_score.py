"""The final test score: the kept checkpoint, scored once on the test split after training,
reported in summary.json, the final line, compare's table and the dashboard."""

from __future__ import annotations

import io

import pytest
import torch

from cnn_tui.commands.compare import format_rows
from cnn_tui.data.batches import TensorBatches, channel_stats
from cnn_tui.data.sources import load_data
from cnn_tui.engine.predict import from_run
from cnn_tui.headless.printer import HeadlessPrinter
from cnn_tui.models.build import build_model
from cnn_tui.train.checkpoint import load_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.final_score import kept_checkpoint
from tests.helpers import of_type, run_collect, stop_at

pytestmark = pytest.mark.timeout(240)


def independent_score(recipe, checkpoint) -> tuple[float, dict[int, float]]:
    """Accuracy of a checkpoint on the recipe's test split, computed here without the trainer."""
    bundle = load_data(recipe.data, recipe.seed)
    model = build_model(recipe.model, bundle.channels, bundle.image_size, len(bundle.class_names))
    model.load_state_dict(load_checkpoint(checkpoint)["model"])
    model.eval()
    mean, std = channel_stats(bundle.train.x, True)
    x = (bundle.test.x.float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    with torch.no_grad():
        hit = model(x).argmax(1) == bundle.test.y
    per_class = {c: hit[bundle.test.y == c].float().mean().item() for c in bundle.test.y.unique().tolist()}
    return hit.float().mean().item(), per_class


def test_the_kept_checkpoint_is_scored_once_on_the_test_split_at_the_end(load_tiny, tmp_path, monkeypatch):
    recipe = load_tiny("data.test_split=0.25", "train.epochs=4")
    reads: list[int] = []
    real_epoch = TensorBatches.epoch

    def spy(self, epoch, start_batch=0):
        reads.append(self.num_samples)
        return real_epoch(self, epoch, start_batch)

    monkeypatch.setattr(TensorBatches, "epoch", spy)
    result, events = run_collect(recipe, tmp_path)
    started = of_type(events, "run_started")[0]
    assert (started.num_train, started.num_val, started.num_test) == (72, 48, 24)
    assert reads.count(24) == 1 and reads[-1] == 24  # the test split is read once, last
    types = [e.type for e in events]
    assert types.index("test") > max(i for i, t in enumerate(types) if t == "epoch")
    assert types.index("test") < types.index("finished")
    test = result.summary["test"]
    best_epoch = result.summary["best_epoch"]
    assert test["weights"] == f"best.pt (epoch {best_epoch}, best val/acc)" and test["epoch"] == best_epoch
    accuracy, per_class = independent_score(recipe, result.run_dir / "checkpoints" / "best.pt")
    assert test["test/acc"] == pytest.approx(accuracy, abs=1e-6) and test["images"] == 24
    assert list(test["per_class_acc"]) == ["circle", "square", "cross"]
    assert list(test["per_class_acc"].values()) == pytest.approx([per_class[i] for i in range(3)], abs=1e-6)


def test_early_stopping_scores_the_restored_weights(load_tiny, tmp_path):
    recipe = load_tiny("data.test_split=0.25", "train.epochs=30", "train.early_stopping.enabled=true",
                       "train.early_stopping.patience=1", "train.optimizer.lr=0.5")
    result, events = run_collect(recipe, tmp_path)
    assert result.status == "early_stopped"
    assert result.summary["test"]["weights"].startswith("the weights restored by early stopping (epoch ")


def test_an_interrupted_run_is_scored_only_when_its_resume_completes(load_tiny, tmp_path):
    recipe = load_tiny("data.test_split=0.25")
    control = RunControl()
    part, part_events = run_collect(recipe, tmp_path, control=control, on_event=stop_at(5, control))
    assert part.status == "interrupted" and not of_type(part_events, "test") and "test" not in part.summary
    resumed, resumed_events = run_collect(recipe, tmp_path, resume=part.run_dir)
    assert len(of_type(resumed_events, "test")) == 1 and "test" in resumed.summary


def test_no_test_split_no_test_score(load_tiny, tmp_path):
    result, events = run_collect(load_tiny(), tmp_path)
    assert not of_type(events, "test") and "test" not in result.summary


def test_final_line_and_compare_table_show_the_test_score(load_tiny, tmp_path):
    result, events = run_collect(load_tiny("data.test_split=0.25"), tmp_path)
    out = io.StringIO()
    printer = HeadlessPrinter(out, tty=False)
    for event in events:
        printer.emit(event)
    text = out.getvalue()
    score = result.summary["test"]["test/acc"]
    assert "- Test set (24 images never seen in training), scored with best.pt (epoch" in text
    per_class = result.summary["test"]["per_class_acc"]
    assert ("; weakest: " in text) == (len(set(per_class.values())) > 1)  # named only where some are weaker
    assert text.strip().splitlines()[-1].endswith(f"; test acc {score:.2%} (24 images)")
    rows = [{"recipe": "with_test", "kind": "scratch", "acc": 0.9, "acc_sd": 0.01, "loss": 0.3, "wall": 2.0,
             "seeds": 2, "test": 0.875, "test_sd": 0.025},
            {"recipe": "without", "kind": "scratch", "acc": 0.8, "acc_sd": 0.0, "loss": 0.5, "wall": 1.0,
             "seeds": 2, "test": float("nan"), "test_sd": float("nan")}]
    table = format_rows(rows)
    assert "test acc" in table.splitlines()[0] and "87.5% ± 2.5%" in table and "no test split" in table
    assert "test acc" not in format_rows(rows[1:])


def test_dashboard_state_and_status_bar_show_the_test_score(load_tiny, tmp_path):
    from cnn_tui.ui.state import RunState
    from cnn_tui.ui.widgets.status_bar import status_text

    result, events = run_collect(load_tiny("data.test_split=0.25"), tmp_path)
    state = RunState()
    for event in events:
        state.ingest(event)
    assert state.test is not None
    assert f"test acc {result.summary['test']['test/acc']:.2%}" in status_text(state, 0.6, 200).plain


@pytest.mark.parametrize("status, restored, present, kept", [
    ("early_stopped", True, ["best.pt", "last.pt"], "last.pt"),  # last.pt holds the restored weights
    ("early_stopped", False, ["best.pt", "last.pt"], "best.pt"),  # last.pt holds the final weights
    ("completed", True, ["best.pt", "last.pt"], "best.pt"),
    ("completed", False, ["last.pt"], "last.pt"),  # no epoch was ever best (a NaN metric)
    ("completed", False, [], None),
])
def test_one_rule_for_the_weights_a_run_keeps(tmp_path, status, restored, present, kept):
    """The test score and `cnn-tui predict` both take their weights from this one rule."""
    for name in present:
        (tmp_path / name).write_bytes(b"")
    path = kept_checkpoint(tmp_path, status, restored)
    assert (path.name if path else None) == kept


def test_predict_uses_the_weights_the_test_score_used(load_tiny, tmp_path, capsys):
    """Early stopping without restore_best: both score best.pt, not the final weights in last.pt."""
    recipe = load_tiny("data.test_split=0.25", "train.epochs=30", "train.early_stopping.enabled=true",
                       "train.early_stopping.patience=1", "train.early_stopping.restore_best=false",
                       "train.optimizer.lr=0.5")
    result, _ = run_collect(recipe, tmp_path)
    assert result.status == "early_stopped" and result.summary["test"]["weights"].startswith("best.pt")
    classifier = from_run(result.run_dir)
    best = load_checkpoint(result.run_dir / "checkpoints" / "best.pt")["model"]
    assert all(torch.equal(v, best[k]) for k, v in classifier.model.state_dict().items())
