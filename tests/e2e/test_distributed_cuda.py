"""Data-parallel training on CUDA GPUs (skipped without one; `pytest -m cuda` runs them).

One GPU: the NCCL path at world size 1 through torchrun's own entry point (DDP, the all-reduces,
the agreed control flags, SyncBatchNorm) must train like the plain run. Two GPUs or more: two
NCCL ranks with SyncBatchNorm (each half of the batch) against one process, within a stated tolerance.
The normal suite loads the recipe with every `--set` these commands pass, so an error in them shows
without a GPU."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from tests.conftest import TINY_RECIPE
from tests.e2e.test_distributed import EXACT, cnn_tui, events, only_run_dir, weights

pytestmark = [pytest.mark.timeout(600)]

ON_GPU = ["--device", "cuda", "--set", "train.amp='off'"]  # fp32: TF32 aside, comparable to the plain run
SYNC_BN = ["--set", "train.distributed.sync_batchnorm=true", "--set", "model.batch_norm=true"]
PLAIN_BN = ["--set", "model.batch_norm=true"]


def test_the_gpu_commands_recipes_load_on_the_cpu(recipe):
    from cnn_tui.recipes.loader import load_recipe

    for args in ([*EXACT[2:], *ON_GPU, *SYNC_BN], [*EXACT[2:], *ON_GPU, *PLAIN_BN]):
        loaded = load_recipe(recipe, [value for flag, value in zip(args, args[1:]) if flag == "--set"])[0]
        assert loaded.train.amp == "off" and loaded.model.batch_norm


@pytest.fixture
def recipe(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    return path


def torchrun(*args: str, cwd, nproc: int = 1):
    import subprocess

    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                           str(nproc), "-m", "cnn_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_nccl_at_world_size_one_trains_like_the_plain_run(recipe, tmp_path):
    ran = torchrun("run", str(recipe), *EXACT[2:], *ON_GPU, *SYNC_BN, "--out", "nccl", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    plain = cnn_tui("run", str(recipe), *EXACT[2:], *ON_GPU, *PLAIN_BN, "--out", "plain", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    nccl_dir, plain_dir = only_run_dir(tmp_path / "nccl"), only_run_dir(tmp_path / "plain")
    summary = json.loads((nccl_dir / "summary.json").read_text())
    assert (summary["backend"], summary["world_size"], summary["status"]) == ("nccl", 1, "completed")
    for name, tensor in weights(plain_dir).items():  # cuDNN picks its kernels per run: not bit-exact
        torch.testing.assert_close(weights(nccl_dir)[name].float(), tensor.float(), rtol=1e-3, atol=1e-4, msg=name)


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_two_nccl_ranks_with_sync_batchnorm_train_as_one_process(recipe, tmp_path):
    two = cnn_tui("run", str(recipe), *EXACT[2:], *ON_GPU, *SYNC_BN, "--nproc", "2", "--out", "two", cwd=tmp_path)
    assert two.returncode == 0, two.stderr[-2000:]
    one = cnn_tui("run", str(recipe), *EXACT[2:], *ON_GPU, *PLAIN_BN, "--out", "one", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    two_dir, one_dir = only_run_dir(tmp_path / "two"), only_run_dir(tmp_path / "one")
    assert next(e for e in events(two_dir) if e.type == "run_started").world_size == 2
    for name, tensor in weights(one_dir).items():
        torch.testing.assert_close(weights(two_dir)[name].float(), tensor.float(), rtol=1e-3, atol=1e-4, msg=name)
