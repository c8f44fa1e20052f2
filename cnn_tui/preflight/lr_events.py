"""The range test as a run's event stream and summary, so that the dashboard and `cnn-tui show`
open its folder like any run's: one step event per lr tried (train/loss is the smoothed loss,
lr the rate), the suggestion as a log line, and `lr_find` in summary.json."""

from __future__ import annotations

import time
from typing import Any

from cnn_tui.contract.events import Event, Log, RunFinished, RunStarted, Step
from cnn_tui.contract.status import Status


def outcome(result: Any) -> tuple[Status, str]:
    """(status, reason) of the test as a run: completed with a suggestion, else diverged."""
    if result.suggestion is not None:
        other = "steepest" if result.picked == "valley" else "valley"
        return Status.COMPLETED, (f"lr-find suggests lr {result.suggestion:.3g} ({result.picked}; {other} "
                             f"{getattr(result, other):.3g})")
    if result.diverged_at_once:
        return Status.DIVERGED, "lr-find: the loss rose from the first steps; start lower (--start-lr)"
    return Status.DIVERGED, "lr-find: the loss did not fall over the range; nothing to suggest"


def run_events(run_id: str, recipe: Any, session: Any, phase: Any, result: Any, seconds: float,
               device: Any) -> list[Event]:
    from cnn_tui.train.device import device_name

    plan, data = session.prepared.plan, session.prepared.data
    steps = len(result.lrs)
    start = time.time() - seconds
    events: list[Event] = [RunStarted(
        run_id=run_id, recipe_name=recipe.name, kind=recipe.kind, device=device.type,
        device_name=device_name(device), total_steps=steps, model_name=plan.model_name, layers=plan.layers,
        total_params=plan.total_params, trainable_params=phase.trainable, epochs=1, steps_per_epoch=steps,
        batch_size=recipe.train.batch_size, num_train=session.num_train, num_val=0,
        num_classes=len(data.class_names), class_names=data.class_names, t=start)]
    for i, (lr, loss, raw) in enumerate(zip(result.lrs, result.losses, result.raw)):
        events.append(Step(step=i + 1, epoch=0, metrics={"train/loss": loss, "lr": lr, "lr_find/raw_loss": raw},
                           t=start + seconds * (i + 1) / max(1, steps)))
    status, reason = outcome(result)
    events.append(Log(level="info" if status == "completed" else "warning", message=reason))
    events.append(RunFinished(status=status, reason=reason, step=steps, epoch=0, wall_seconds=round(seconds, 3),
                              best={}, final={"train/loss": result.losses[-1]} if result.losses else {}))
    return events


def summary_of(recipe: Any, phase: Any, result: Any, seconds: float, device: Any) -> dict[str, Any]:
    from cnn_tui.engine.runner import summary_fields

    status, reason = outcome(result)
    return summary_fields(recipe, status, reason, device, None, time.time() - seconds, seconds,
                          steps=len(result.lrs), epochs_completed=0, lr_find={
                              "phase": phase.index + 1, "phase_name": phase.name, "recipe_lr": phase.lr,
                              "field": phase.lr_field, "suggestion": result.suggestion, "picked": result.picked,
                              "valley": result.valley, "steepest": result.steepest, "stopped": result.stopped,
                              "lrs": result.lrs, "losses": result.losses})
