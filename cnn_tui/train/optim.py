"""Optimizers by name. Each param group remembers its base lr, which the schedule scales."""

from __future__ import annotations

from typing import Any

import torch


def build_optimizer(cfg: Any, params: Any) -> torch.optim.Optimizer:
    """`params`: parameters, or param groups (dicts with their own "lr") for per-group rates."""
    params = list(params)
    if params and isinstance(params[0], dict):
        params = [g for g in params if g["params"]]
    else:
        params = [p for p in params if p.requires_grad]
    opt: torch.optim.Optimizer
    if cfg.name == "sgd":
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                              nesterov=cfg.nesterov and cfg.momentum > 0,
                              weight_decay=cfg.weight_decay)
    elif cfg.name == "adam":
        opt = torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps,
                               weight_decay=cfg.weight_decay)
    elif cfg.name == "adamw":
        opt = torch.optim.AdamW(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps,
                                weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps,
                                  momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    for group in opt.param_groups:
        group["base_lr"] = group["lr"]
    return opt
