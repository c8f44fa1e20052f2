"""Faults injected into a run: out of memory, a full disk, a crash, unsafe names, long runs."""

from __future__ import annotations

import errno

import pytest
import torch

from cnn_tui.contract.errors import RecipeError
from cnn_tui.recipes.loader import load_recipe
from cnn_tui.record.rundir import create_run_dir, read_summary
from cnn_tui.train.checkpoint import load_checkpoint
from tests.helpers import of_type, run_collect


def test_cuda_out_of_memory_is_reported_with_the_batch_size(load_tiny, tmp_path, monkeypatch):
    import cnn_tui.train.trainer as trainer_module

    def oom(self, x, y, grad_tick):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer_module.Trainer, "_train_step", oom)
    result, events = run_collect(load_tiny(), tmp_path)
    assert result.status == "failed" and result.exit_code == 1
    reason = of_type(events, "finished")[0].reason
    assert "out of memory at batch size 16" in reason and "train.batch_size 8" in reason


def test_full_disk_keeps_the_previous_checkpoint(load_tiny, tmp_path, monkeypatch):
    import cnn_tui.train.checkpoint as checkpoint_module

    real_save = torch.save
    calls = {"n": 0}

    def save(obj, f, *a, **k):
        calls["n"] += 1
        if calls["n"] > 2:  # epoch 1 wrote best.pt and last.pt; then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(checkpoint_module.torch, "save", save)
    result, events = run_collect(load_tiny(), tmp_path)
    assert result.status == "failed" and result.exit_code == 1
    reason = of_type(events, "finished")[0].reason
    assert "No space left on device" in reason and "the previous checkpoint is kept" in reason
    state = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert state["position"]["epoch"] == 1
    assert not [p for p in (result.run_dir / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    assert read_summary(result.run_dir)["status"] == "failed"


def test_a_crash_in_training_ends_with_a_summary(load_tiny, tmp_path, monkeypatch):
    import cnn_tui.train.trainer as trainer_module

    def boom(self, x, y, grad_tick):
        raise ValueError("shapes do not match")

    monkeypatch.setattr(trainer_module.Trainer, "_train_step", boom)
    result, events = run_collect(load_tiny(), tmp_path)
    assert result.exit_code == 1 and "ValueError: shapes do not match" in of_type(events, "finished")[0].reason
    assert any("Traceback" in e.message for e in of_type(events, "log"))


@pytest.mark.parametrize("name", ["../evil", "a/b", "x y", "", "."])
def test_recipe_names_cannot_escape_the_runs_folder(tmp_path, name):
    path = tmp_path / "r.yaml"
    path.write_text(f"name: '{name}'\n")
    if name == ".":
        recipe, _ = load_recipe(path)  # a plain prefix: the run folder is '.-<date>-<hex>'
        run = create_run_dir(tmp_path / "runs", recipe.name)
        assert run.parent == tmp_path / "runs"
        return
    with pytest.raises(RecipeError, match="name"):
        load_recipe(path)


def test_runs_started_at_the_same_moment_never_share_a_directory(tmp_path):
    dirs = {create_run_dir(tmp_path, "same") for _ in range(50)}
    assert len(dirs) == 50


def test_engine_memory_is_flat_over_many_epochs(load_tiny, tmp_path):
    """Resident memory (where tensors' storage lives: tracemalloc cannot see it) stays flat."""
    import gc

    import torch

    from cnn_tui.contract.sinks import CallbackSink
    from cnn_tui.engine.runner import RunOptions, execute
    from cnn_tui.train.control import RunControl
    from cnn_tui.train.device import memory_in_use

    samples = {}

    def watch(event):
        if event.type == "epoch" and event.epoch in (25, 150):
            gc.collect()
            samples[event.epoch] = memory_in_use(torch.device("cpu"))

    recipe = load_tiny("train.epochs=150", "data.shapes.num_train=32", "data.shapes.num_val=16")
    result = execute(recipe, RunOptions(out=tmp_path), CallbackSink(watch), RunControl())
    assert result.status == "completed"
    grown = samples[150] - samples[25]
    assert grown < 6 * 2**20, f"resident memory grew {grown / 2**20:.1f} MB over 125 epochs"  # 48 kB an epoch
