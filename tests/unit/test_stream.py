"""The streaming loader (files decoded by DataLoader workers) against the in-memory one, exact
resume on the stream, unreadable and vanishing files, and the on-disk decode cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from cnn_tui.contract.errors import DataError
from cnn_tui.data.sources import load_data
from cnn_tui.recipes.schema import Data
from cnn_tui.train.checkpoint import load_checkpoint
from cnn_tui.train.control import RunControl
from tests.dataset_files import image_tree
from tests.helpers import of_type, run_collect, stop_at

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def folder(tmp_path) -> Path:
    """A course-style tree: train/ val/ test/ of three classes, JPEGs of varied sizes."""
    root = tmp_path / "shapes_photos"
    for seed, (split, count) in enumerate((("train", 16), ("val", 6), ("test", 5))):
        image_tree(root / split, {"circle": count, "square": count, "cross": count},
                   size=(24 + 3 * seed, 18), fmt="jpg", seed=seed)
    return root


def on_folder(load_tiny, root: Path, *overrides: str):
    return load_tiny("data.dataset=image_folder", f"data.path={root}", "data.decode_cache=null", *overrides)


def trace(events) -> tuple[list, list, list]:
    return ([(e.step, e.metrics) for e in of_type(events, "step")],
            [(e.epoch, e.metrics) for e in of_type(events, "epoch")],
            [(e.metrics, e.per_class) for e in of_type(events, "test")])


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_run_equals_the_in_memory_run(load_tiny, folder, tmp_path, workers):
    """Same pixels (one decoder), same order and augmentation (seeded by epoch and batch)."""
    augment = ("data.augment.hflip=true", "data.augment.crop_padding=2")
    memory, memory_events = run_collect(on_folder(load_tiny, folder, "data.loader=memory", *augment), tmp_path / "m")
    stream, stream_events = run_collect(
        on_folder(load_tiny, folder, "data.loader=stream", f"data.workers={workers}", *augment), tmp_path / "s")
    assert memory.status == stream.status == "completed"
    steps, epochs, tests = trace(stream_events)
    memory_steps, memory_epochs, memory_tests = trace(memory_events)
    assert steps == memory_steps and tests
    # training is identical; evaluation sums over batches of another size (streams evaluate at
    # the training batch size), so validation and test metrics agree to rounding only
    assert [(e, m["train/loss"], m["train/acc"]) for e, m in epochs] == \
        [(e, m["train/loss"], m["train/acc"]) for e, m in memory_epochs]
    for (_, m), (_, mm) in zip(epochs + tests, memory_epochs + memory_tests):
        assert m == pytest.approx(mm, rel=1e-6)
    a = load_checkpoint(memory.run_dir / "checkpoints" / "last.pt")["model"]
    b = load_checkpoint(stream.run_dir / "checkpoints" / "last.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    started = of_type(stream_events, "run_started")[0]
    assert (started.num_train, started.num_val, started.num_test) == (48, 18, 15)


def test_streamed_run_interrupted_mid_epoch_resumes_exactly(load_tiny, folder, tmp_path):
    recipe = on_folder(load_tiny, folder, "data.loader=stream", "data.workers=2", "data.augment.hflip=true")
    full, full_events = run_collect(recipe, tmp_path / "a")
    control = RunControl()
    part, part_events = run_collect(recipe, tmp_path / "b", control=control, on_event=stop_at(4, control))
    assert part.status == "interrupted"
    assert load_checkpoint(part.run_dir / "checkpoints" / "last.pt")["position"]["batch"] == 1  # mid-epoch 2
    resumed, resumed_events = run_collect(recipe, tmp_path / "b", resume=part.run_dir)
    assert resumed.status == "completed"
    joined = tuple(a + b for a, b in zip(trace(part_events), trace(resumed_events)))
    assert joined == trace(full_events) and joined[2]


def test_auto_streams_above_the_memory_limit_and_memory_is_refused_there(load_tiny, folder, tmp_path):
    limit = 40 * 3 * 16 * 16 / 1e9  # room for 40 decoded images; the tree has 81 of 3 x 16 x 16 bytes
    result, events = run_collect(on_folder(load_tiny, folder, f"data.max_memory_gb={limit}"), tmp_path)
    assert result.status == "completed"
    logs = [e.message for e in of_type(events, "log")]
    assert any("data.loader: streaming 81 images from disk" in m for m in logs), logs
    with pytest.raises(DataError, match=r"data.loader: 81 images at 16px need .* use data.loader: stream"):
        run_collect(on_folder(load_tiny, folder, f"data.max_memory_gb={limit / 2}", "data.loader=memory"), tmp_path)


def test_truncated_jpeg_in_the_stream_is_skipped_and_counted(load_tiny, folder, tmp_path):
    victim = folder / "train" / "circle" / "3.jpg"
    victim.write_bytes(victim.read_bytes()[:200])  # a truncated download
    result, events = run_collect(on_folder(load_tiny, folder, "data.loader=stream", "data.workers=0"), tmp_path)
    assert result.status == "completed"
    warnings = [e.message for e in of_type(events, "log") if e.level == "warning"]
    assert any("skipped an unreadable image while streaming" in m for m in warnings), warnings


def test_dataset_that_disappears_mid_run_fails_and_keeps_the_last_checkpoint(load_tiny, folder, tmp_path):
    def vanish(event):
        if event.type == "checkpoint" and event.epoch == 1 and event.reason == "last":
            shutil.rmtree(folder)

    result, events = run_collect(on_folder(load_tiny, folder, "data.loader=stream", "data.workers=2"),
                                 tmp_path, on_event=vanish)
    assert result.status == "failed" and result.exit_code == 1
    assert "an image file disappeared mid-run" in result.summary["reason"]
    assert "No such file or directory" in result.summary["reason"]
    kept = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert kept["position"]["epoch"] == 1
    assert not of_type(events, "test")  # a failed run is not scored


def test_decode_cache_makes_the_second_load_skip_decoding(folder, tmp_path):
    data = Data(dataset="image_folder", path=str(folder), image_size=16, decode_cache=str(tmp_path / "cache"))
    first_log: list[str] = []
    first = load_data(data, seed=0, info=first_log.append)
    assert any("decoded 81 images in" in m for m in first_log), first_log
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1
    second_log: list[str] = []
    second = load_data(data, seed=0, info=second_log.append)
    assert any("reused the cache" in m for m in second_log), second_log
    assert torch.equal(first.train.x, second.train.x) and torch.equal(first.test.y, second.test.y)
    # a file rewritten in place (same path, new pixels) is a new key: decoded again, new pixels used
    image_tree(folder / "train", {"circle": 1}, size=(24, 18), fmt="jpg", seed=9)  # rewrites circle/0.jpg
    third_log: list[str] = []
    third = load_data(data, seed=0, info=third_log.append)
    assert not any("reused the cache" in m for m in third_log)
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2
    assert not torch.equal(third.train.x, first.train.x)
