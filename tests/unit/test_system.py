"""The System samples: what they measure, the input-bound reading, and runs whose data keeps up
or does not (in memory, against big JPEGs decoded in the training process)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

from cnn_tui.train.diagnose import PERSIST, Diagnoser
from cnn_tui.train.system import SystemSampler
from tests.dataset_files import image_tree
from tests.helpers import of_type, run_collect

pytestmark = pytest.mark.timeout(120)


def test_a_sample_counts_the_wait_the_workers_and_their_memory():
    sampler = SystemSampler(torch.device("cpu"), every_s=0.5)
    assert not sampler.due()
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for _ in range(3):  # a step of 150 ms after each wait of 50 ms
            sampler.asking()
            time.sleep(0.05)
            sampler.got()
            time.sleep(0.15)
        sampler.asking()  # the epoch has no batch left
        sampler.epoch_ended()
        time.sleep(0.5)  # validation: neither
        sampler.asking()
        sampler.got()
        assert sampler.due()
        sample = sampler.sample(step=40, epoch=1)
        own = sampler.process.memory_info().rss / 2**20
    finally:
        worker.kill()
        worker.wait()
    assert sample.data_wait == pytest.approx(0.25, abs=0.08)
    assert sample.workers == 1 and sample.rss_mb > own  # the child's memory is the run's too
    assert sample.cpu_cores >= 1 and sample.cpu_percent >= 0
    assert sample.gpu_name is None and sample.gpu_util is None  # no GPU: nothing claimed
    assert sampler.sample(41, 1).data_wait < 0.02  # the wait is per interval


def test_input_bound_is_said_once_after_a_streak():
    diagnoser = Diagnoser(num_classes=3, lr=0.1)
    readings = [0.7] * (PERSIST - 1) + [0.2] + [0.8] * (PERSIST - 1)  # streaks broken before they count
    assert all(diagnoser.on_system(w, "cuda", 2, i) == [] for i, w in enumerate(readings))
    found = diagnoser.on_system(0.8, "cuda", 2, 99)
    assert [f.code for f in found] == ["input_bound"] and "80% of the time, so the GPU sits idle" in found[0].message
    assert diagnoser.on_system(0.9, "cuda", 2, 100) == []  # once a run
    resumed = Diagnoser(num_classes=3, lr=0.1)
    resumed.load_state_dict(Diagnoser(num_classes=3, lr=0.1, starved_streak=PERSIST - 1).state_dict())
    assert [f.code for f in resumed.on_system(0.6, "cpu", 0, 1)] == ["input_bound"]


def test_data_in_memory_keeps_up(load_tiny, tmp_path):
    result, events = run_collect(load_tiny("log.system_every_s=0.05", "train.epochs=2",
                                           "data.shapes.num_train=480"), tmp_path)
    samples = of_type(events, "system")
    assert result.status == "completed" and len(samples) >= 2
    assert all(s.workers == 0 and s.rss_mb > 100 and 0 <= s.data_wait < 0.5 for s in samples)
    assert "input_bound" not in {d.code for d in of_type(events, "diagnosis")}


def test_slow_storage_makes_a_streamed_run_input_bound(load_tiny, tmp_path, monkeypatch):
    """Files that take 10 ms each to read (a network filesystem, a cold disk), decoded in the training
    process (data.workers: 0): the loop waits for most of its time, and the diagnosis says so."""
    from cnn_tui.data import stream

    real = stream.load_image

    def slow(*args, **kwargs):
        time.sleep(0.01)
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, "load_image", slow)
    image_tree(tmp_path / "photos", {"a": 48, "b": 48}, size=(320, 240), fmt="jpg")
    recipe = load_tiny("data.dataset=image_folder", f"data.path={tmp_path / 'photos'}", "data.loader=stream",
                       "data.workers=0", "data.val_split=0.25", "log.system_every_s=0.2", "train.epochs=3")
    result, events = run_collect(recipe, tmp_path / "runs")
    samples = of_type(events, "system")
    assert result.status == "completed" and len(samples) >= 3
    assert all(s.data_wait > 0.6 for s in samples)  # 160 ms of reading against a few ms of a 16 px net
    assert "input_bound" in {d.code for d in of_type(events, "diagnosis")}


def test_no_samples_when_switched_off(load_tiny, tmp_path):
    _, events = run_collect(load_tiny("log.system_every_s=0", "train.epochs=1"), tmp_path)
    assert of_type(events, "system") == []
