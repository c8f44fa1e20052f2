"""Per-layer gradient norms and update-to-weight ratios, with one device sync per tick.

A layer is a module that owns parameters (conv1, bn1, stage2.0.conv1, ...). Per tick:
  grad norm   ||g|| over the layer's parameters
  update ratio ||w_after - w_before|| / ||w_after||  (healthy training sits near 1e-3)
All norms come from torch._foreach_norm (one fused kernel per list), are stacked, reduced
per layer with index_add and moved to the host in a single .tolist().
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn


def _norms(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    foreach_norm = getattr(torch, "_foreach_norm", None)  # private API: keep a fallback
    if foreach_norm is not None:
        return torch.stack(foreach_norm(tensors)).float()
    return torch.stack([torch.linalg.vector_norm(t).float() for t in tensors])


class GradientStats:
    def __init__(self, model: nn.Module) -> None:
        self.refresh(model)
        self._before: list[torch.Tensor] | None = None

    def refresh(self, model: nn.Module) -> None:
        """(Re)collect the trainable parameters per layer, e.g. after unfreezing."""
        self.layers: list[str] = []
        self.params: list[torch.Tensor] = []
        owners: list[int] = []
        for module_name, module in model.named_modules():
            own = [p for p in module.parameters(recurse=False) if p.requires_grad]
            if not own:
                continue
            self.layers.append(module_name or "model")
            for p in own:
                self.params.append(p)
                owners.append(len(self.layers) - 1)
        device = self.params[0].device if self.params else torch.device("cpu")
        self.owner = torch.tensor(owners, dtype=torch.long, device=device)
        self.main: list[torch.Tensor] = []  # each layer's largest parameter: its weight
        for i in range(len(self.layers)):
            own = [p for p, o in zip(self.params, owners) if o == i]
            self.main.append(max(own, key=lambda p: p.numel()))

    def weights_and_grads(self) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor | None]]:
        """(layer names, each layer's weight, its gradient or None), for the health quantiles."""
        return self.layers, [p.detach() for p in self.main], [p.grad for p in self.main]

    def before_step(self) -> None:
        """Snapshot the weights the optimizer is about to change."""
        live = [p for p in self.params if p.grad is not None]
        self._before = [p.detach().clone() for p in live] if live else None

    def after_step(self) -> tuple[dict[str, float], dict[str, float]]:
        """(grad norm per layer, update ratio per layer), layers without gradients left out."""
        idx = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not idx or self._before is None:
            return {}, {}
        params = [self.params[i].detach() for i in idx]
        grads = [grad.detach() for i in idx if (grad := self.params[i].grad) is not None]
        deltas = torch._foreach_sub(params, self._before) if hasattr(torch, "_foreach_sub") else [
            p - b for p, b in zip(params, self._before)]
        self._before = None
        per_param = torch.stack([_norms(grads), _norms(deltas), _norms(params)])  # 3 x P
        owner = self.owner[torch.tensor(idx, device=self.owner.device)]
        per_layer = torch.zeros(3, len(self.layers), device=per_param.device)
        per_layer.index_add_(1, owner, per_param.square())
        present = torch.zeros(len(self.layers), device=per_param.device).index_add_(
            0, owner, torch.ones_like(owner, dtype=per_param.dtype))
        grad, delta, weight, has = torch.cat([per_layer.sqrt(), present[None]]).cpu().tolist()
        norms, ratios = {}, {}
        for i, name in enumerate(self.layers):
            if has[i]:
                norms[name] = grad[i]
                ratios[name] = delta[i] / weight[i] if weight[i] > 0 else 0.0
        return norms, ratios
