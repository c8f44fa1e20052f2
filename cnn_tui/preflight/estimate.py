"""What a run will cost, before it starts (`cnn-tui validate RECIPE --estimate`): parameters and
MACs (the layer table's), activation memory per batch, an estimate of peak device memory, and the
time per epoch, timed on the chosen device from the same parts a run's epoch is made of.

The time of an epoch is the sum of what the training loop does in one, each part timed with the
component the loop itself uses (so a heavier view or a slower loader shows in the estimate):
- the training steps: the mean of `TIMED` steps after `WARMUP` untimed ones (the first steps pay
  for allocation, cuDNN's autotuning, lazy imports), less the fastest and the slowest, each timed
  from asking the loader for its batch (augmentation and decoding included) to the optimizer's
  step, times the epoch's batches (a mean, as an epoch's time is a sum; trimmed, as one step
  stalled by another process would otherwise decide the estimate alone);
- the gradient ticks (every `log.grad_every_steps`): per-layer gradient statistics
  (train/gradstats.py) and activation health (the views' `arm`/`health_event`), timed on
  `TICKS` steps, their extra over a plain step times the ticks of an epoch;
- validation: one real pass over the validation split (train/scoring.py's `score`) with the
  views' collector attached, then the views drawn after it (confusion, mistakes, feature maps,
  Grad-CAM ... into a temporary folder);
- the end-of-epoch checkpoints (best and last): the weights and optimizer state serialised.
The first estimate missed a measured epoch by 17-30% when it timed only the bare steps.

The memory: the weights, their gradients and the optimizer's state (SGD momentum one copy, Adam
two), plus the activations the backward pass keeps, batch x the layer table's bytes per image,
twice (the activations and their gradients).
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

WARMUP, TIMED, TICKS = 2, 8, 2
STATE_COPIES = {"sgd": 1, "rmsprop": 2, "adam": 2, "adamw": 2}


def estimate(recipe: Any, device: Any) -> dict[str, float]:
    from cnn_tui.preflight.session import Session

    session = Session(recipe, device)
    phase = session.phase(0)
    plan = session.prepared.plan
    batch = recipe.train.batch_size
    snapshot = session.snapshot()
    parts = _timed_epoch(session, phase.optimizer, device) if phase.optimizer is not None else {}
    session.restore(snapshot)
    steps = len(session.train)
    grad_every = recipe.log.grad_every_steps
    epoch = (parts.get("step_s", 0.0) * steps + parts.get("tick_extra_s", 0.0) * (steps // grad_every if grad_every
                                                                                   else 0)
             + parts.get("val_s", 0.0) + parts.get("views_s", 0.0) + parts.get("checkpoint_s", 0.0))
    act_per_image = sum(row.get("act_bytes", 0) for row in plan.layers)
    trainable = phase.trainable
    copies = STATE_COPIES.get(recipe.train.optimizer.name, 2)
    weights = plan.total_params * 4 + trainable * 4 * (1 + copies)
    activations = act_per_image * batch * 2
    return {"params": plan.total_params, "trainable": trainable,
            "macs": sum(row.get("macs", 0) for row in plan.layers), "step_s": parts.get("step_s", 0.0),
            "tick_extra_s": parts.get("tick_extra_s", 0.0), "ticks": steps // grad_every if grad_every else 0,
            "val_s": parts.get("val_s", 0.0), "views_s": parts.get("views_s", 0.0),
            "checkpoint_s": parts.get("checkpoint_s", 0.0),
            "epoch_s": epoch, "steps_per_epoch": steps, "activation_bytes": activations,
            "peak_bytes": weights + activations}


def _timed_epoch(session: Any, optimizer: Any, device: Any) -> dict[str, float]:
    """The parts of an epoch, each timed with the loop's own components (see the module's docstring)."""
    import torch

    from cnn_tui.insight.views import ModelViews
    from cnn_tui.train.gradstats import GradientStats
    from cnn_tui.train.scoring import score

    recipe, model, prepared = session.recipe, session.model, session.prepared
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=recipe.train.label_smoothing)
    stats = GradientStats(model) if recipe.log.grad_every_steps else None
    classes = prepared.data.class_names

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    with tempfile.TemporaryDirectory(prefix="cnn-tui-estimate-") as folder:
        views = ModelViews(recipe.views, model, classes, Path(folder), stats is not None)
        batches = session.batches()
        plain: list[float] = []
        ticks: list[float] = []
        for i in range(WARMUP + TIMED + (TICKS if stats is not None else 0)):
            tick = i >= WARMUP + TIMED
            started = time.perf_counter()
            x, y = next(batches)
            if tick:
                views.arm()
            session.step(optimizer, criterion, x, y)
            if tick and stats is not None:
                stats.before_step()
                stats.after_step()
                views.health_event(i, 0, *stats.weights_and_grads())
            sync()
            if i >= WARMUP:
                (ticks if tick else plain).append(time.perf_counter() - started)
        step = statistics.fmean(sorted(plain)[1:-1] if len(plain) > 2 else plain)
        parts = {"step_s": step, "tick_extra_s": max(0.0, statistics.median(ticks) - step) if ticks else 0.0}
        if prepared.val is not None:
            collector = views.collector()
            started = time.perf_counter()
            score(model, prepared.val, device, len(classes), session._autocast, collector)
            sync()
            parts["val_s"] = time.perf_counter() - started
            if collector is not None:
                prep = prepared.val.prep
                started = time.perf_counter()
                views.after_validation(collector, model, 1, 1, prep.mean, prep.std, True)
                sync()
                parts["views_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for _ in ("best", "last"):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, io.BytesIO())
        parts["checkpoint_s"] = time.perf_counter() - started
    return parts


def format_estimate(found: dict[str, float], device: str) -> str:
    from cnn_tui.contract.layer_columns import format_macs

    mb = 2**20
    ticks = (f" + {found['ticks']} gradient ticks at +{found['tick_extra_s'] * 1000:.0f} ms"
             if found.get("ticks") else "")
    return (f"estimate on {device}: {found['params']:,} parameters ({found['trainable']:,} trainable), "
            f"{format_macs(found['macs'])} per image\n"
            f"estimate: activations {found['activation_bytes'] / mb:.1f} MB per batch; peak device memory about "
            f"{found['peak_bytes'] / mb:.1f} MB (weights, gradients, optimizer state, activations)\n"
            f"estimate: {found['step_s'] * 1000:.0f} ms a step with its batch (trimmed mean of {TIMED} timed steps) x "
            f"{found['steps_per_epoch']} steps{ticks}; validation {found['val_s']:.1f} s, views "
            f"{found['views_s']:.1f} s, checkpoints {found['checkpoint_s']:.1f} s: about {found['epoch_s']:.0f} s "
            "an epoch")
