"""The classification worker's GPU paths: AMP in bf16 and in fp16 with GradScaler, channels-last,
the CUDA RNG restored on resume, and the stream feeding the GPU from pinned memory.

Every test runs twice: on the CPU in the normal suite, and on a CUDA GPU under the `cuda` marker
(`pytest -m cuda`; skipped without one). The CPU run loads the same recipes (so a recipe error in a
GPU test shows on CPU CI) and runs the same code, nothing patched but where the project itself
decides by device: AMP in bf16 and in fp16 with GradScaler (torch's CPU autocast and
GradScaler('cpu'), which `train.amp: bf16|fp16` asks for on a CPU too), the channels-last conversion
(on the CPU with the device list that picks it widened), the same stream and resume code. The CUDA
runs add the device itself. Exact tests pin the CPU elsewhere; here the paths hold within stated tolerances."""

from __future__ import annotations

import math

import pytest
import torch

from cnn_tui.data.bundle import ImageSet
from cnn_tui.data.stream import StreamBatches
from cnn_tui.train.checkpoint import load_checkpoint
from cnn_tui.train.control import RunControl
from tests.dataset_files import image_tree
from tests.helpers import of_type, run_collect, stop_at

pytestmark = [pytest.mark.timeout(600)]

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda,
                                   pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])
DEVICES = ["cpu", CUDA]
FP32 = "train.amp='off'"  # quoted: YAML 1.1 reads a bare off as false


def first_losses(events) -> list[float]:
    return [e.metrics["train/loss"] for e in of_type(events, "step")][:3]


@pytest.mark.parametrize("device, amp", [("cpu", "bf16"), ("cpu", "fp16"),
                                         pytest.param(*CUDA.values, "bf16", marks=CUDA.marks),
                                         pytest.param(*CUDA.values, "fp16", marks=CUDA.marks)])
def test_an_amp_step_is_finite_and_close_to_fp32(load_tiny, tmp_path, device, amp):
    if device == "cuda" and amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    _, fp32 = run_collect(load_tiny(f"device={device}", FP32, "train.epochs=1"), tmp_path / "fp32")
    result, mixed = run_collect(load_tiny(f"device={device}", f"train.amp={amp}", "train.epochs=1"), tmp_path / amp)
    assert result.status == "completed" and of_type(mixed, "run_started")[0].device == device
    reference, losses = first_losses(fp32), first_losses(mixed)
    assert all(math.isfinite(v) for v in losses)
    # bf16 keeps 8 bits of mantissa, fp16 10: the first losses agree to a few percent, and differ
    assert losses == pytest.approx(reference, rel=0.05) and losses != reference
    if amp == "fp16":
        scaler = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")["phases"]["scaler"]
        assert scaler and scaler["scale"] > 0  # GradScaler ran and its state is saved


@pytest.mark.parametrize("device", ["cpu", "cpu, as on CUDA", CUDA])
@pytest.mark.parametrize("asked", [True, False])
def test_channels_last_is_the_projects_own_doing_and_changes_no_output(load_tiny, monkeypatch, device, asked):
    """The model and the batches in the memory format the project picks (channels-last on CUDA when
    `train.channels_last` says so; contiguous on the CPU, where it is slower for small convs), from
    the kind's own `prepare`, and the prepared model's outputs equal a contiguous copy's. "cpu, as on
    CUDA" runs the channels-last conversion on the CPU: the device list that picks it widened."""
    import copy

    from cnn_tui.engine.plugins import engine_for
    from cnn_tui.engine.world import World
    from cnn_tui.train import device as devices

    if device == "cpu, as on CUDA":
        monkeypatch.setattr(devices, "CHANNELS_LAST_DEVICES", ("cuda", "cpu"))
        device = "cpu"
    recipe = load_tiny(f"device={device}", f"train.channels_last={str(asked).lower()}")
    prepared = engine_for(recipe.kind).prepare(recipe, torch.device(device), False, World())
    expected = torch.channels_last if device in devices.CHANNELS_LAST_DEVICES and asked else torch.contiguous_format
    weights = [m.weight for m in prepared.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert weights and all(w.is_contiguous(memory_format=expected) for w in weights)
    x, _ = next(iter(prepared.train.epoch(0)))
    assert x.dim() == 4 and x.is_contiguous(memory_format=expected) and x.device.type == device
    model = prepared.model.eval()
    plain = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    with torch.no_grad():
        torch.testing.assert_close(model(x), plain(x.contiguous()), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_interrupted_and_resumed_matches_uninterrupted(load_tiny, tmp_path, device):
    """Tolerance, not equality: cuDNN may pick other kernels in a new process (benchmark mode)."""
    recipe = load_tiny(f"device={device}", "model.dropout=0.3", "data.augment.hflip=true")
    full, full_events = run_collect(recipe, tmp_path / "a")
    control = RunControl()
    part, _ = run_collect(recipe, tmp_path / "b", control=control, on_event=stop_at(8, control))
    state = load_checkpoint(part.run_dir / "checkpoints" / "last.pt")
    assert part.status == "interrupted" and "rng_cpu" in state["ranks"][0]
    assert ("rng_cuda" in state["ranks"][0]) == (device == "cuda")  # dropout's CUDA RNG travels with it
    resumed, resumed_events = run_collect(recipe, tmp_path / "b", resume=part.run_dir)
    assert resumed.status == "completed"
    end = lambda evs: of_type(evs, "epoch")[-1].metrics  # noqa: E731
    assert end(resumed_events) == pytest.approx(end(full_events), rel=1e-3, abs=1e-4)
    a = load_checkpoint(full.run_dir / "checkpoints" / "last.pt")["model"]
    b = load_checkpoint(part.run_dir / "checkpoints" / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(b[key].float(), a[key].float(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_the_stream_feeds_the_gpu_from_pinned_memory(tmp_path, device):
    root = image_tree(tmp_path / "photos", {"a": 20, "b": 20}, size=(40, 30), fmt="jpg")
    files = sorted(str(p) for p in root.rglob("*.jpg"))
    labels = torch.tensor([0 if "/a/" in f else 1 for f in files])
    images = ImageSet(labels, files=files, image_size=32)
    batches = StreamBatches(images, 8, torch.zeros(3), torch.ones(3), torch.device(device), train=True,
                            workers=2)
    assert batches.loader.pin_memory == (device == "cuda")  # pinning only helps a copy to the GPU
    raw, _y, _bad = next(iter(batches.loader))
    assert raw.is_pinned() == (device == "cuda") and raw.dtype == torch.uint8
    seen = 0
    for x, y in batches.epoch(0):
        assert x.device.type == y.device.type == device and x.dtype == torch.float32
        seen += len(y)
    assert seen == 40


@pytest.mark.parametrize("device", DEVICES)
def test_a_streamed_folder_run_trains_on_the_device(load_tiny, tmp_path, device):
    root = tmp_path / "data"
    for seed, (split, count) in enumerate((("train", 30), ("val", 8), ("test", 8))):
        image_tree(root / split, {"circle": count, "square": count, "cross": count}, size=(48, 36), fmt="jpg",
                   seed=seed)
    recipe = load_tiny(f"device={device}", "data.dataset=image_folder", f"data.path={root}", "data.loader=stream",
                       "data.decode_cache=null", "train.amp=auto")
    result, events = run_collect(recipe, tmp_path / "runs")
    assert result.status == "completed" and result.summary["device"] == device
    assert result.summary["test"]["images"] == 24
