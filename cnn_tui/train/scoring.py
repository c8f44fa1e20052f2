"""One pass of a classifier over a split, without gradients: summed loss, hits, count and per-class
hits, reduced on the device and moved to the host once at the end (the only sync of the pass)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn_tui.insight.validation import ValidationCollector


@torch.no_grad()
def score(model: nn.Module, batches: Any, device: torch.device, classes: int, autocast: Any,
          collector: ValidationCollector | None = None,
          reduce: Callable[[torch.Tensor], torch.Tensor] | None = None
          ) -> tuple[float, float, float, list[tuple[int, int]]]:
    """(summed loss, correct, count, per class (correct, count)); `collector` sees every batch.
    `reduce` sums the counts over the ranks of a data-parallel run, each of which scored its shard."""
    was_training = model.training
    model.eval()
    total = torch.zeros(3, device=device, dtype=torch.float64)
    per_class = torch.zeros(2, classes, device=device, dtype=torch.int64)
    for x, y in batches.epoch(0):
        if len(y) == 0:
            continue
        with autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, reduction="sum")
        hit = logits.argmax(1) == y
        total += torch.stack([loss.double(), hit.sum().double(),
                              torch.tensor(float(len(y)), device=device, dtype=torch.float64)])
        per_class[0] += torch.bincount(y[hit], minlength=classes)
        per_class[1] += torch.bincount(y, minlength=classes)
        if collector is not None:
            collector.add(x, y, logits)
    model.train(was_training)
    if reduce is not None:
        total, per_class = reduce(total), reduce(per_class)
    loss, correct, count = total.tolist()  # sync point: one per pass
    return loss, correct, count, list(zip(*per_class.tolist()))
