"""What a run will cost, before it starts (`cnn-tui validate RECIPE --estimate`): parameters and
MACs (the layer table's), activation memory per batch, an estimate of peak device memory, and the
time per epoch from a few timed training steps on the chosen device.

The time: the median of `TIMED` steps after `WARMUP` untimed ones (the first steps pay for
allocation, cuDNN's autotuning, lazy imports), times the epoch's batches, plus validation at a
third of a training step per image (a forward pass without the backward's two). The memory: the
weights, their gradients and the optimizer's state (SGD momentum one copy, Adam two), plus the
activations the backward pass keeps, batch x the layer table's bytes per image, twice (the
activations and their gradients).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

WARMUP, TIMED = 2, 5
STATE_COPIES = {"sgd": 1, "rmsprop": 2, "adam": 2, "adamw": 2}


def estimate(recipe: Any, device: Any) -> dict[str, float]:
    import torch

    from cnn_tui.preflight.session import Session

    session = Session(recipe, device)
    phase = session.phase(0)
    plan = session.prepared.plan
    batch = recipe.train.batch_size
    criterion = torch.nn.CrossEntropyLoss()
    seconds: list[float] = []
    batches = session.batches()
    snapshot = session.snapshot()
    if phase.optimizer is not None:
        for i in range(WARMUP + TIMED):
            x, y = next(batches)
            started = time.perf_counter()
            session.step(phase.optimizer, criterion, x, y)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if i >= WARMUP:
                seconds.append(time.perf_counter() - started)
    session.restore(snapshot)
    step = statistics.median(seconds) if seconds else 0.0
    val_images = session.prepared.val.num_samples if session.prepared.val is not None else 0
    epoch = step * len(session.train) + step / max(1, batch) / 3 * val_images
    act_per_image = sum(row.get("act_bytes", 0) for row in plan.layers)
    trainable = phase.trainable
    copies = STATE_COPIES.get(recipe.train.optimizer.name, 2)
    weights = plan.total_params * 4 + trainable * 4 * (1 + copies)
    activations = act_per_image * batch * 2
    return {"params": plan.total_params, "trainable": trainable,
            "macs": sum(row.get("macs", 0) for row in plan.layers), "step_s": step,
            "epoch_s": epoch, "steps_per_epoch": len(session.train), "activation_bytes": activations,
            "peak_bytes": weights + activations}


def format_estimate(found: dict[str, float], device: str) -> str:
    mb = 2**20
    return (f"estimate on {device}: {found['params']:,} parameters ({found['trainable']:,} trainable), "
            f"{found['macs'] / 1e6:.1f} MMACs per image\n"
            f"estimate: activations {found['activation_bytes'] / mb:.1f} MB per batch; peak device memory about "
            f"{found['peak_bytes'] / mb:.1f} MB (weights, gradients, optimizer state, activations)\n"
            f"estimate: {found['step_s'] * 1000:.0f} ms a step (median of {TIMED} timed steps), "
            f"{found['steps_per_epoch']} steps: about {found['epoch_s']:.0f} s an epoch with validation")
