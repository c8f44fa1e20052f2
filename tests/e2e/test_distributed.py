"""`cnn-tui run RECIPE --nproc 2`: two gloo processes on the CPU, launched through torchrun's own
module, against one process; interruption and resume across ranks; a rank that dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from cnn_tui.contract.wire_reader import parse_lines
from tests.conftest import TINY_RECIPE, cnn_tui_cmd

pytestmark = pytest.mark.timeout(240)

# no batch norm (each rank would normalise its own half) and no dropout (each rank draws its own
# masks): then two ranks of 8 (splitting a batch of 16) must train as one process of 16,
# augmentation included
EXACT = ["--set", "model.batch_norm=false", "--set", "model.dropout=0",
         "--set", "data.augment.hflip=true", "--set", "data.augment.crop_padding=2"]
LONGER = ["--set", "data.shapes.num_train=960"]  # 60 steps of 16 an epoch


def cnn_tui(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(cnn_tui_cmd(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))


def only_run_dir(out: Path) -> Path:
    (run_dir,) = out.iterdir()
    return run_dir


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]


def events(run_dir: Path) -> list:
    return list(parse_lines((run_dir / "events.jsonl").read_text().splitlines()))


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    return path


@pytest.fixture(scope="module")
def two_ranks_and_one(recipe, tmp_path_factory) -> tuple[Path, Path]:
    """The same recipe (batch 16) on two processes, and on one."""
    work = tmp_path_factory.mktemp("pair")
    two = cnn_tui("run", str(recipe), *EXACT, "--nproc", "2", "--out", "two", cwd=work)
    assert two.returncode == 0, two.stderr + two.stdout
    assert "each step's 16 images are split 2 x 8" in two.stdout
    one = cnn_tui("run", str(recipe), *EXACT, "--out", "one", cwd=work)
    assert one.returncode == 0, one.stderr + one.stdout
    return only_run_dir(work / "two"), only_run_dir(work / "one")


def test_two_ranks_train_as_one_process(two_ranks_and_one):
    two, one = two_ranks_and_one
    # the same 18 steps of 16 images, in the same order, with the same flips and crops; gradients
    # averaged by DDP's all-reduce instead of one mean: equal up to float32 rounding
    for name, tensor in weights(one).items():
        torch.testing.assert_close(weights(two)[name], tensor, rtol=1e-4, atol=1e-6, msg=name)
    epochs_two = [e.metrics for e in events(two) if e.type == "epoch"]
    epochs_one = [e.metrics for e in events(one) if e.type == "epoch"]
    assert len(epochs_two) == len(epochs_one) == 3
    for a, b in zip(epochs_two, epochs_one):
        assert a["val/acc"] == b["val/acc"] and a["train/acc"] == b["train/acc"]  # counts, summed over ranks
        for metric in ("train/loss", "val/loss", "lr"):
            assert a[metric] == pytest.approx(b[metric], rel=1e-5)


def test_a_two_rank_run_is_one_run_directory(two_ranks_and_one):
    two, _ = two_ranks_and_one
    stream = events(two)
    assert [e.type for e in stream].count("run_started") == 1 and [e.type for e in stream].count("finished") == 1
    started = next(e for e in stream if e.type == "run_started")
    assert started.world_size == 2 and started.steps_per_epoch == 6 and started.batch_size == 16
    confusion = [e for e in stream if e.type == "confusion"][-1]
    assert sum(map(sum, confusion.matrix)) == 48  # every validation image, from both ranks' shares
    summary = json.loads((two / "summary.json").read_text())
    assert (summary["status"], summary["world_size"], summary["backend"]) == ("completed", 2, "gloo")
    assert len(summary["devices"]) == 2
    assert (two / "logs" / "rank-1.log").is_file() and not (two / "logs" / "rank-0.log").exists()
    assert "nproc: 2" in (two / "recipe.yaml").read_text()  # so that `run --resume` starts two again


def _start(recipe: Path, work: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(cnn_tui_cmd("run", str(recipe), *LONGER, "--nproc", "2", "--out", "runs",
                                        "--events", "-", *extra),
                            cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _wait_for_step(proc: subprocess.Popen, step: int) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event["type"] == "step" and event["step"] >= step:
            return
    raise AssertionError(f"the run ended before step {step}: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}")


DROPOUT = ["--set", "model.dropout=0.3", "--set", "train.epochs=2"]  # per-rank masks: their RNGs must resume too


def _interrupted_mid_epoch(recipe: Path, work: Path) -> Path:
    """A two-rank run stopped by SIGINT to its launcher in its second epoch."""
    proc = _start(recipe, work, *DROPOUT, "--control-stdin")
    _wait_for_step(proc, 70)
    assert proc.stdin is not None
    proc.stdin.write("pause\n")  # hold the ranks where they are, so that the signal lands mid-epoch
    proc.stdin.flush()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # to the launcher, as a terminal's Ctrl+C: torchrun passes it on
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    run_dir = only_run_dir(work / "runs")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and 70 <= summary["steps"] < 120
    return run_dir


def test_sigint_mid_epoch_then_resume_equals_an_uninterrupted_two_rank_run(recipe, tmp_path):
    whole = cnn_tui("run", str(recipe), *LONGER, *DROPOUT, "--nproc", "2", "--out", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    run_dir = _interrupted_mid_epoch(recipe, tmp_path)
    resumed = cnn_tui("run", "--resume", str(run_dir), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "on 2 x CPU" in resumed.stdout  # the recipe recorded the processes: resume starts two again
    reference = weights(only_run_dir(tmp_path / "whole"))
    for name, tensor in weights(run_dir).items():
        assert torch.equal(tensor, reference[name]), name
    kinds = [e.type for e in events(run_dir)]
    assert kinds.count("run_started") == 2 and kinds.count("finished") == 2


def test_resumed_on_one_process_a_two_rank_run_goes_on_and_says_how(recipe, tmp_path):
    run_dir = _interrupted_mid_epoch(recipe, tmp_path)
    resumed = cnn_tui("run", "--resume", str(run_dir), "--nproc", "1", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "resumed on 1 process(es); the run trained on 2: the same steps and batches go on" in resumed.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["status"], summary["steps"], summary["epochs_completed"]) == ("completed", 120, 2)
    assert [e.world_size for e in events(run_dir) if e.type == "run_started"] == [2, 1]


def _rank_pid(launcher: int, rank: int) -> int:
    """The worker of `launcher` (torchrun's agent runs in it) that holds RANK=rank."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == launcher and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no rank {rank} under {launcher}")


def test_a_killed_rank_fails_the_run_in_bounded_time(recipe, tmp_path):
    proc = _start(recipe, tmp_path, "--set", "train.epochs=5")
    _wait_for_step(proc, 10)
    os.kill(_rank_pid(proc.pid, 1), signal.SIGKILL)
    killed = time.monotonic()
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, err
    assert time.monotonic() - killed < 30  # gloo notices the closed connection; torchrun stops the rest
    run_dir = only_run_dir(tmp_path / "runs")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["failed_rank"]["rank"] == 1
    assert summary["failed_rank"]["how"] == "was killed by SIGKILL"
    assert "rank 1 was killed by SIGKILL" in err
    assert [e.type for e in events(run_dir)].count("finished") == 1
    assert [json.loads(line)["type"] for line in out.splitlines()].count("finished") == 1


def test_what_cannot_run_data_parallel_is_one_line(recipe, tmp_path):
    style = cnn_tui("run", "style_transfer_random_net", "--nproc", "2", cwd=tmp_path, timeout=60)
    assert style.returncode == 2 and style.stderr.count("\n") == 1
    assert "style_transfer runs on one process" in style.stderr
    sync = cnn_tui("run", str(recipe), "--nproc", "2", "--set", "train.distributed.sync_batchnorm=true",
                   "--out", "runs", cwd=tmp_path)
    assert sync.returncode == 2
    assert "train.distributed.sync_batchnorm: torch's SyncBatchNorm runs on CUDA only" in sync.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    big = cnn_tui("run", str(recipe), "--nproc", "2", "--set", "train.batch_size=128", "--out", "runs", cwd=tmp_path)
    assert big.returncode == 2 and "needs at least 128 training images, and the training split has 96" in big.stderr
    odd = cnn_tui("run", str(recipe), "--nproc", "2", "--set", "train.batch_size=15", "--out", "runs", cwd=tmp_path)
    assert odd.returncode == 2 and odd.stderr.strip().endswith(
        "train.batch_size: 15 images do not split evenly among 2 processes; use a multiple of 2, e.g. 14 or 16")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_torchrun_itself_runs_the_same_recipe(recipe, tmp_path):
    import sys

    ran = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                          "-m", "cnn_tui", "run", str(recipe), "--out", "runs"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.count("run directory:") == 1  # rank 0 speaks; rank 1's output is in its log
    assert "each step's 16 images are split 2 x 8" in ran.stdout
    run_dir = only_run_dir(tmp_path / "runs")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["status"], summary["world_size"]) == ("completed", 2)
    assert "completed" in (run_dir / "logs" / "rank-1.log").read_text()  # its final line, in its log
