"""`export --model onnx|torchscript FILE`: the run's kept checkpoint as a model that runs without
cnn-tui. The input normalisation is inside it: it takes float images in [0, 1], N x C x S x S
(S the run's image size), and returns class logits. Class names, size and mean/std travel in
the file (ONNX metadata, a TorchScript extra file `cnn_tui.json`).

The export is checked before it is kept: the exported model runs on a batch and its outputs
must match the checkpoint's (onnxruntime for ONNX, torch.jit.load for TorchScript).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import UsageError
from cnn_tui.engine.predict import Classifier, from_run

FORMATS = ("onnx", "torchscript")
TOLERANCE = 1e-4  # max |logit difference| between the export and the checkpoint on the check batch
CHECK_BATCH = 4
METADATA_FILE = "cnn_tui.json"


class Standalone(nn.Module):
    """The trained network behind the normalisation it was trained with."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.net = classifier.model
        self.register_buffer("mean", classifier.mean.float().view(1, -1, 1, 1))
        self.register_buffer("std", classifier.std.float().view(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net((images - self.mean) / self.std)
        return logits


def metadata(classifier: Classifier, fmt: str) -> dict[str, Any]:
    return {"format": fmt, "source": classifier.source, "class_names": classifier.class_names,
            "input": f"float32 N x {classifier.channels} x {classifier.image_size} x {classifier.image_size}, "
                     "values in [0, 1] (normalised inside the model)",
            "output": "logits, one per class (softmax for probabilities)",
            "image_size": classifier.image_size, "channels": classifier.channels,
            "mean": classifier.mean.tolist(), "std": classifier.std.tolist()}


def check_batch(classifier: Classifier, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    size = classifier.image_size
    return torch.rand(CHECK_BATCH, classifier.channels, size, size, generator=generator)


def _to_torchscript(model: Standalone, example: torch.Tensor, path: Path, meta: dict[str, Any]) -> torch.Tensor:
    """Traced (our networks have no data-dependent control flow). TorchScript is deprecated
    upstream, in favour of torch.export; it stays here for the C++ and mobile runtimes that load it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # type: ignore[attr-defined]  # "same" padding: fixed
        traced = torch.jit.trace(model, example, check_trace=False)
        # into memory, then written by Python: torch's own file writer aborts the process on a full disk
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={METADATA_FILE: json.dumps(meta)})
        path.write_bytes(buffer.getvalue())
        return torch.jit.load(str(path))(example)


def _to_onnx(model: Standalone, example: torch.Tensor, path: Path, meta: dict[str, Any]) -> torch.Tensor | None:
    import onnx

    batch = torch.export.Dim("batch", min=1)
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates its passes
        torch.onnx.export(model, (example,), str(path), dynamo=True, external_data=False,
                          input_names=["images"], output_names=["logits"], dynamic_shapes=({0: batch},))
    proto = onnx.load(str(path))
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=json.dumps(value))
    onnx.save(proto, str(path))
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(["logits"], {"images": example.numpy()})[0])


def export_model(run_dir: Path, fmt: str, path: Path, trust: bool = False) -> str:
    """Write the model to `path`; returns what was checked, in words. Raises UsageError on a mismatch."""
    classifier = from_run(run_dir, "export", trust)
    model = Standalone(classifier).eval()
    example = check_batch(classifier)
    with torch.no_grad():
        expected = model(example)
        meta = metadata(classifier, fmt)
        got = _to_onnx(model, example, path, meta) if fmt == "onnx" else _to_torchscript(model, example, path, meta)
    if got is None:
        return "not checked: onnxruntime is not installed (pip install onnxruntime)"
    worst = float((got - expected).abs().max())
    if not worst <= TOLERANCE:
        raise UsageError(f"{path.name}: the exported model's outputs differ from the checkpoint's by {worst:.2g} "
                         f"(more than {TOLERANCE:g}); nothing was kept")
    within = "exactly" if worst == 0 else f"within {worst:.1g}"
    return f"checked: on {CHECK_BATCH} images its logits match the checkpoint's {within} (allowed {TOLERANCE:g})"
