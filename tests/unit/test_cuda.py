"""The classification worker on a CUDA GPU (skipped without one): `pytest -m cuda` runs them.

Exact tests pin the CPU (the tiny recipe says `device: cpu`); here the GPU paths the CPU
never takes must hold within stated tolerances: AMP in bf16 and in fp16 with GradScaler,
channels-last, the CUDA RNG restored on resume, and the stream feeding the GPU from pinned memory."""

from __future__ import annotations

import math

import pytest
import torch

from cnn_tui.data.bundle import ImageSet
from cnn_tui.data.stream import StreamBatches
from cnn_tui.models.build import build_model
from cnn_tui.train.checkpoint import load_checkpoint
from cnn_tui.train.control import RunControl
from tests.dataset_files import image_tree
from tests.helpers import of_type, run_collect, stop_at

pytestmark = [pytest.mark.cuda, pytest.mark.timeout(600),
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def first_losses(events) -> list[float]:
    return [e.metrics["train/loss"] for e in of_type(events, "step")][:3]


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_an_amp_step_is_finite_and_close_to_fp32(load_tiny, tmp_path, amp):
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    _, fp32 = run_collect(load_tiny("device=cuda", "train.amp=off", "train.epochs=1"), tmp_path / "fp32")
    result, mixed = run_collect(load_tiny("device=cuda", f"train.amp={amp}", "train.epochs=1"), tmp_path / amp)
    assert result.status == "completed" and of_type(mixed, "run_started")[0].device == "cuda"
    reference, losses = first_losses(fp32), first_losses(mixed)
    assert all(math.isfinite(v) for v in losses)
    # bf16 keeps 8 bits of mantissa, fp16 10: the first losses agree to a few percent
    assert losses == pytest.approx(reference, rel=0.05)
    if amp == "fp16":
        scaler = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")["scaler"]
        assert scaler and scaler["scale"] > 0  # GradScaler ran and its state is saved


def test_channels_last_outputs_equal_contiguous_ones(load_tiny):
    recipe = load_tiny()
    model = build_model(recipe.model, 3, 32, 3).cuda().eval()
    x = torch.randn(16, 3, 32, 32, device="cuda")
    with torch.no_grad():
        plain = model(x)
        last = model.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(last, plain, rtol=1e-4, atol=1e-5)


def test_interrupted_and_resumed_on_cuda_matches_uninterrupted(load_tiny, tmp_path):
    """Tolerance, not equality: cuDNN may pick other kernels in a new process (benchmark mode)."""
    recipe = load_tiny("device=cuda", "model.dropout=0.3", "data.augment.hflip=true")
    full, full_events = run_collect(recipe, tmp_path / "a")
    control = RunControl()
    part, _ = run_collect(recipe, tmp_path / "b", control=control, on_event=stop_at(8, control))
    state = load_checkpoint(part.run_dir / "checkpoints" / "last.pt")
    assert part.status == "interrupted" and "rng_cuda" in state  # dropout's CUDA RNG travels with it
    resumed, resumed_events = run_collect(recipe, tmp_path / "b", resume=part.run_dir)
    assert resumed.status == "completed"
    end = lambda evs: of_type(evs, "epoch")[-1].metrics  # noqa: E731
    assert end(resumed_events) == pytest.approx(end(full_events), rel=1e-3, abs=1e-4)
    a = load_checkpoint(full.run_dir / "checkpoints" / "last.pt")["model"]
    b = load_checkpoint(part.run_dir / "checkpoints" / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(b[key].float(), a[key].float(), rtol=1e-3, atol=1e-4)


def test_the_stream_feeds_the_gpu_from_pinned_memory(tmp_path):
    root = image_tree(tmp_path / "photos", {"a": 20, "b": 20}, size=(40, 30), fmt="jpg")
    files = sorted(str(p) for p in root.rglob("*.jpg"))
    labels = torch.tensor([0 if "/a/" in f else 1 for f in files])
    images = ImageSet(labels, files=files, image_size=32)
    batches = StreamBatches(images, 8, torch.zeros(3), torch.ones(3), torch.device("cuda"), train=True,
                            workers=2)
    assert batches.loader.pin_memory
    raw, _y, _bad = next(iter(batches.loader))
    assert raw.is_pinned() and raw.dtype == torch.uint8
    seen = 0
    for x, y in batches.epoch(0):
        assert x.is_cuda and y.is_cuda and x.dtype == torch.float32
        seen += len(y)
    assert seen == 40


@pytest.mark.timeout(600)
def test_a_streamed_folder_run_trains_on_the_gpu(load_tiny, tmp_path):
    root = tmp_path / "data"
    for seed, (split, count) in enumerate((("train", 30), ("val", 8), ("test", 8))):
        image_tree(root / split, {"circle": count, "square": count, "cross": count}, size=(48, 36), fmt="jpg",
                   seed=seed)
    recipe = load_tiny("device=cuda", "data.dataset=image_folder", f"data.path={root}", "data.loader=stream",
                       "data.decode_cache=null", "train.amp=auto")
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed" and result.summary["device"] == "cuda"
    assert result.summary["test"]["images"] == 24
