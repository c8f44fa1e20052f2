"""Data-parallel pieces that need no second process: each rank's shard of the data, the
augmentation window, and how the launcher turns the ranks' exits into one."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from cnn_tui.contract.wire_reader import parse_lines
from cnn_tui.data.augment import augment_batch
from cnn_tui.data.batches import Shard, TensorBatches
from cnn_tui.parallel.launch import settle
from cnn_tui.parallel.rank_logs import log_path
from cnn_tui.recipes.schema import Augment

pytestmark = pytest.mark.timeout(60)


def _batches(count: int, batch: int, shard: Shard, train: bool, augment=None) -> TensorBatches:
    x = torch.arange(count, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 3, 4, 4).contiguous()
    y = torch.arange(count)
    return TensorBatches(x, y, batch, torch.zeros(3), torch.ones(3), torch.device("cpu"), train=train,
                         seed=5, shard=shard, augment=augment)


@pytest.mark.parametrize("count,batch,size", [(96, 8, 2), (100, 4, 3), (64, 8, 4)])
def test_each_step_the_ranks_together_hold_the_global_batch(count, batch, size):
    whole = _batches(count, batch * size, Shard(), train=True)
    ranks = [_batches(count, batch, Shard(r, size), train=True) for r in range(size)]
    assert {len(r) for r in ranks} == {len(whole)} == {count // (batch * size)}
    for epoch in (0, 3):
        global_steps = [y for _, y in whole.epoch(epoch)]
        per_rank = [[y for _, y in r.epoch(epoch)] for r in ranks]
        for step, expected in enumerate(global_steps):
            assert torch.equal(torch.cat([labels[step] for labels in per_rank]), expected)
    if len(whole) > 1:  # resuming mid-epoch: the same slices from the same step on
        assert torch.equal(next(iter(ranks[1].epoch(2, 1)))[1], [y for _, y in ranks[1].epoch(2)][1])


def test_validation_shards_cover_every_image_once():
    ranks = [_batches(50, 8, Shard(r, 3), train=False) for r in range(3)]
    seen = torch.cat([y for r in ranks for _, y in r.epoch(0)])
    assert sorted(seen.tolist()) == list(range(50))


def test_a_rank_augments_its_slice_as_the_whole_batch_would():
    cfg = Augment(hflip=True, vflip=True, crop_padding=2, rotation=10, color_jitter=0.3, noise=0.1)
    x = torch.rand(12, 3, 8, 8)
    whole = augment_batch(x, cfg, torch.Generator().manual_seed(9))
    parts = [augment_batch(x[o:o + 4], cfg, torch.Generator().manual_seed(9), window=(o, 12)) for o in (0, 4, 8)]
    torch.testing.assert_close(torch.cat(parts), whole)
    alone = augment_batch(x[4:8], cfg, torch.Generator().manual_seed(9))  # without the window: other draws
    assert not torch.allclose(alone, whole[4:8])


def test_an_augmented_shard_is_the_global_batchs_slice():
    cfg = Augment(hflip=True, crop_padding=1)
    whole = _batches(64, 16, Shard(), train=True, augment=cfg)
    ranks = [_batches(64, 8, Shard(r, 2), train=True, augment=cfg) for r in range(2)]
    for step, (x, _) in enumerate(whole.epoch(1)):
        parts = [list(r.epoch(1))[step][0] for r in ranks]
        torch.testing.assert_close(torch.cat(parts), x)


# ------------------------------------------------------------------ the launcher's verdict

def _run_dir(tmp_path: Path, summary: dict | None) -> Path:
    run_dir = tmp_path / "run"
    (run_dir / "logs").mkdir(parents=True)
    (run_dir / "events.jsonl").write_text("")
    if summary is not None:
        (run_dir / "summary.json").write_text(json.dumps(summary))
    log_path(run_dir, 1).write_text("step 12\nRuntimeError: CUDA error: an illegal memory access\n")
    return run_dir


def _settle(codes, run_dir, tmp_path, stamps=None):
    said: list[str] = []
    events: list = []
    sink = SimpleNamespace(emit=events.append)
    code = settle(codes, stamps or {}, run_dir, tmp_path, 2, 0.0, sink, said.append)
    return code, said, events


@pytest.mark.parametrize("codes,expected", [
    ({0: 130, 1: 130}, 130),  # both agreed to stop (a signal, or the dashboard)
    ({0: 1, 1: 1}, 1),  # both agreed the run diverged
    ({0: 2, 1: -15}, 2),  # rank 0 refused the input; torchrun stopped rank 1
    ({0: 2}, 2),
    ({0: 130, 1: -15}, 130),  # rank 0 had stopped cleanly when torchrun stopped rank 1
])
def test_ranks_that_ended_alike_give_their_exit_code(tmp_path, codes, expected):
    run_dir = _run_dir(tmp_path, {"status": "interrupted", "reason": "received SIGINT"})
    code, said, events = _settle(codes, run_dir, tmp_path)
    assert (code, said, events) == (expected, [], [])
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"  # untouched


def test_a_killed_rank_fails_the_run_and_is_named_in_the_summary(tmp_path):
    run_dir = _run_dir(tmp_path, {"status": "failed", "reason": "RuntimeError: Connection reset by peer"})
    # rank 0 ended by torchrun's SIGTERM in the same second as rank 1's SIGKILL: rank 1 is the cause
    code, said, events = _settle({0: -signal.SIGTERM, 1: -signal.SIGKILL}, run_dir, tmp_path, {0: 7, 1: 7})
    summary = json.loads((run_dir / "summary.json").read_text())
    assert code == 1 and summary["status"] == "failed" and summary["exit_code"] == 1
    assert summary["failed_rank"]["rank"] == 1 and summary["failed_rank"]["how"] == "was killed by SIGKILL"
    assert summary["failed_rank"]["last_log_lines"][-1].startswith("RuntimeError: CUDA error")
    assert summary["reason"].startswith("rank 1 was killed by SIGKILL") and "Connection reset" in summary["reason"]
    assert said == [f"rank 1 was killed by SIGKILL; the run failed (see {run_dir})"]
    assert events == []  # rank 0 had sent `finished` itself


def test_a_rank_that_crashed_alone_is_the_cause(tmp_path):
    run_dir = _run_dir(tmp_path, {"status": "failed", "reason": "gloo: connection closed"})
    code, _, _ = _settle({0: 1, 1: 7}, run_dir, tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert code == 1 and summary["failed_rank"]["rank"] == 1 and summary["failed_rank"]["how"] == "exited with code 7"


def test_when_rank_0_died_the_launcher_ends_the_record(tmp_path):
    run_dir = _run_dir(tmp_path, None)
    code, said, events = _settle({0: -signal.SIGKILL, 1: -signal.SIGTERM}, run_dir, tmp_path, {0: 3, 1: 4})
    summary = json.loads((run_dir / "summary.json").read_text())
    assert code == 1 and summary["failed_rank"]["rank"] == 0 and summary["status"] == "failed"
    written = list(parse_lines((run_dir / "events.jsonl").read_text().splitlines()))
    assert [e.type for e in written] == ["finished"] and [e.type for e in events] == ["finished"]
    assert written[0].status == "failed" and "rank 0 was killed by SIGKILL" in written[0].reason


def test_before_the_run_directory_a_failed_rank_shows_its_last_lines(tmp_path):
    (tmp_path / "rank-1.log").write_text("Traceback ...\nRuntimeError: no GPU for local rank 1\n")
    code, said, _ = _settle({0: -signal.SIGTERM, 1: 1}, None, tmp_path, {0: 5, 1: 5})
    assert code == 1
    assert said == ["rank 1 exited with code 1; the run failed", "  rank 1: Traceback ...",
                    "  rank 1: RuntimeError: no GPU for local rank 1"]


def test_streamed_shards_are_the_global_batches_slices(load_tiny, tmp_path):
    """Files decoded by DataLoader workers: each rank reads only its slice, and the slices of a
    step make the global batch; validation shards cover every file once."""
    from cnn_tui.data.sources import load_data
    from cnn_tui.data.stream import StreamBatches
    from tests.dataset_files import image_tree

    image_tree(tmp_path / "photos", {"a": 20, "b": 20, "c": 20}, size=(20, 16), fmt="jpg")
    recipe = load_tiny("data.dataset=image_folder", f"data.path={tmp_path / 'photos'}", "data.loader=stream",
                       "data.decode_cache=null", "data.val_split=0.25")
    data = load_data(recipe.data, recipe.seed, log=lambda _m: None)
    assert data.train.files is not None  # streamed from the files

    def batches(split, batch: int, shard: Shard, train: bool) -> StreamBatches:
        return StreamBatches(split, batch, torch.zeros(3), torch.ones(3), torch.device("cpu"), train=train, seed=3,
                             workers=1, shard=shard)

    whole = [y for _, y in batches(data.train, 8, Shard(), True).epoch(1)]
    ranks = [[y for _, y in batches(data.train, 4, Shard(r, 2), True).epoch(1)] for r in range(2)]
    assert len(whole) == len(ranks[0]) == len(ranks[1]) == len(data.train) // 8
    for step, expected in enumerate(whole):
        assert torch.equal(torch.cat([ranks[0][step], ranks[1][step]]), expected)
    seen = [y for r in range(2) for _, y in batches(data.val, 4, Shard(r, 2), False).epoch(0)]
    assert sorted(torch.cat(seen).tolist()) == sorted(data.val.y.tolist())
