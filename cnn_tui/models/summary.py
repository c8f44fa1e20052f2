"""The model's layer table, as the course teaches it: per layer the output shape, parameters
(trainable/frozen), kernel/stride/padding, receptive field and jump at its output,
multiply-accumulates for one image and activation memory.

One forward pass of one image (on the meta device when the model is there: no memory, no
time) with hooks on leaf modules. MACs come from torch.utils.flop_counter.FlopCounterMode,
which counts the ops themselves (convolutions and matrix products, functional ones too) and
attributes them to modules: 2 FLOPs make a MAC. Receptive fields: models/receptive.py.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnn_tui.models.receptive import GLOBAL, FieldTracker

Row = dict[str, Any]


@runtime_checkable
class Tabulated(Protocol):
    """A module whose forward runs parts only in training (GoogLeNet's side heads), and also
    while `tabulating` is set: the table's pass sets it, so those parts get rows too."""

    tabulating: bool

OUTSIDE_LAYERS = "(outside layers)"


def _leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in model.named_modules() if name and not list(m.children())]


def _geometry(module: nn.Module) -> dict[str, str]:
    """kernel/stride/padding as written in papers ("3x3", "2", "1"), where the layer has them."""
    if not hasattr(module, "kernel_size") or not hasattr(module, "stride"):
        return {}

    def text(value: Any) -> str:
        values = value if isinstance(value, tuple | list) else (value,)
        values = tuple(values)
        return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))

    kernel = module.kernel_size
    kernel_text = text(kernel) if not isinstance(kernel, int) else str(kernel)
    if "x" not in kernel_text and isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.MaxPool2d | nn.AvgPool2d):
        kernel_text = f"{kernel_text}x{kernel_text}"
    dilation = text(getattr(module, "dilation", 1))
    if isinstance(module, nn.Conv2d) and dilation != "1":  # a dilated 3x3: "3x3 d2" (sees 5x5)
        kernel_text = f"{kernel_text} d{dilation}"
    return {"kernel": kernel_text, "stride": text(module.stride), "padding": text(getattr(module, "padding", 0))}


def _field(value: float) -> int | None:
    return None if value == GLOBAL else int(value)


def _jump(value: float) -> int | float:
    """Whole pixels as an int; after a transposed conv a fraction (0.5: two units per input pixel)."""
    return int(value) if value == int(value) else value


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> list[Row]:
    """Rows of {name, type, shape, params, trainable, kernel?, stride?, padding?, rf, jump, macs,
    act_bytes} in execution order; rf/jump None once a layer sees the whole image (after flatten)."""
    rows: list[Row] = []
    outputs: list[torch.Tensor | None] = []
    hooks = []

    def hook(name: str, module: nn.Module):
        def fn(_module, _inputs, output):
            own = list(module.parameters(recurse=False))
            tensor = output if isinstance(output, torch.Tensor) else None
            rows.append({
                "name": name,
                "type": type(module).__name__,
                "shape": list(tensor.shape[1:]) if tensor is not None else [],
                "params": sum(p.numel() for p in own),
                "trainable": sum(p.numel() for p in own if p.requires_grad),
                **_geometry(module),
                "act_bytes": tensor[0].numel() * tensor.element_size() if tensor is not None else 0,
            })
            outputs.append(tensor)
        return fn

    for name, module in _leaf_modules(model):
        hooks.append(module.register_forward_hook(hook(name, module)))
    was_training = model.training
    model.eval()
    tabulating = [m for m in model.modules() if isinstance(m, Tabulated)]
    for module in tabulating:
        module.tabulating = True
    counter = FlopCounterMode(display=False)
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        image = torch.zeros(1, *input_shape, device=device)
        with torch.no_grad(), counter, FieldTracker(image) as tracker:
            model(image)
            fields = [tracker.field(t) if t is not None else None for t in outputs]
    finally:
        for h in hooks:
            h.remove()
        for module in tabulating:
            module.tabulating = False
        model.train(was_training)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    prefix = type(model).__name__ + "."
    for row, field in zip(rows, fields):
        row["macs"] = flops.get(prefix + row["name"], 0) // 2
        row["rf"] = _field(max(field.rf)) if field is not None else None
        row["jump"] = _jump(max(field.jump)) if field is not None else None
    outside = counter.get_total_flops() // 2 - sum(r["macs"] for r in rows)
    if outside > 0:  # ops in a forward() of their own (F.linear on a parameter): a row says so
        rows.append({"name": OUTSIDE_LAYERS, "type": "functional", "shape": [], "params": 0, "trainable": 0,
                     "macs": outside, "rf": None, "jump": None, "act_bytes": 0})
    return rows


def count_params(model: nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def format_table(rows: list[Row], total: int, trainable: int) -> str:
    from cnn_tui.contract.layer_columns import table_lines, totals_line

    return "\n".join(table_lines(rows, width=200)[0] + [totals_line(rows, total, trainable)])
