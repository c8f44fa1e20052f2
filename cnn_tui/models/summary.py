"""The model's layer table: output shape and parameter counts per layer, like Keras' summary.

Runs one dummy forward pass with hooks on leaf modules (and on residual blocks, whose
output is what a reader cares about).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn


def _leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in model.named_modules() if name and not list(m.children())]


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> list[dict[str, Any]]:
    """Rows of {name, type, shape, params, trainable} in execution order."""
    rows: list[dict[str, Any]] = []
    hooks = []

    def hook(name: str, module: nn.Module):
        def fn(_module, _inputs, output):
            own = list(module.parameters(recurse=False))
            rows.append({
                "name": name,
                "type": type(module).__name__,
                "shape": list(output.shape[1:]) if isinstance(output, torch.Tensor) else [],
                "params": sum(p.numel() for p in own),
                "trainable": sum(p.numel() for p in own if p.requires_grad),
            })
        return fn

    for name, module in _leaf_modules(model):
        hooks.append(module.register_forward_hook(hook(name, module)))
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def count_params(model: nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def format_table(rows: list[dict[str, Any]], total: int, trainable: int) -> str:
    lines = [f"{'layer':<22}{'type':<18}{'output':>16}{'params':>12}"]
    for r in rows:
        shape = "x".join(str(d) for d in r["shape"])
        frozen = "  frozen" if r["params"] and not r["trainable"] else ""
        lines.append(f"{r['name'][:21]:<22}{r['type'][:17]:<18}{shape:>16}{r['params']:>12,}{frozen}")
    lines.append(f"total params {total:,} (trainable {trainable:,})")
    return "\n".join(lines)
