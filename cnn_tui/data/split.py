"""Seeded train/validation split and subsetting."""

from __future__ import annotations

import torch


def split_indices(count: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, val) index tensors; the same seed always gives the same split."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    n_val = min(max(1, round(count * val_fraction)), count - 1)
    return order[n_val:], order[:n_val]
