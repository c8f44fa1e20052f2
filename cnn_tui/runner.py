"""Run a recipe: data, model, run directory, trainer, summary. The one entry point that
the headless CLI, the dashboard's child process and the tests all go through.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnn_tui import rundir
from cnn_tui.data.sources import load_data
from cnn_tui.data.stream import make_batches
from cnn_tui.errors import UsageError
from cnn_tui.events import FINISHED_OK, Log, RunStarted
from cnn_tui.models.plan import plan_model
from cnn_tui.recipes.loader import recipe_to_dict
from cnn_tui.sinks import EventSink, FanOut
from cnn_tui.train.checkpoint import CheckpointError, load_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import device_name, pick_device
from cnn_tui.train.trainer import Outcome, Trainer

EXIT_CODES = {"completed": 0, "early_stopped": 0, "interrupted": 130, "diverged": 1, "failed": 1}


@dataclass
class RunOptions:
    out: Path = Path("runs")
    resume: Path | None = None  # an existing run directory to continue
    device: str | None = None  # overrides recipe.device
    dry_run: bool = False  # two batches of train and val, nothing written


@dataclass
class RunResult:
    status: str
    exit_code: int
    run_dir: Path | None
    summary: dict[str, Any] = field(default_factory=dict)


def dry_run_recipe(recipe):
    recipe = recipe.model_copy(deep=True)
    recipe.train.epochs = 1
    recipe.train.max_steps_per_epoch = 2
    return recipe


def execute(recipe, options: RunOptions, sink: EventSink, control: RunControl | None = None) -> RunResult:
    control = control or RunControl()
    state = None
    if options.resume is not None:
        state = _load_resume_state(options.resume)
    if recipe.kind == "style_transfer":
        from cnn_tui.style.run import execute_style

        return execute_style(recipe, options, sink, control, state)
    if options.dry_run:
        recipe = dry_run_recipe(recipe)
    # ---- everything that can fail on bad input happens before a run directory exists
    torch.manual_seed(recipe.seed)
    device = pick_device(options.device or recipe.device)
    notes: list[str] = []
    infos: list[str] = []
    data = load_data(recipe.data, recipe.seed, log=notes.append,
                     channels=None if recipe.kind == "scratch" else 3, info=infos.append)
    infos.insert(0, data.description)
    num_classes = len(data.class_names)
    plan = plan_model(recipe, data, device, infos.append)
    channels_last = device.type == "cuda" and recipe.train.channels_last and plan.inputs is None
    model = plan.model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    sets = plan.inputs or {"train": data.train, "val": data.val, "test": data.test}
    late_logs: list[EventSink] = []  # the run's sinks, once they exist: streaming reports skipped files

    def warn_later(message: str) -> None:
        for late in late_logs:
            late.emit(Log(level="warning", message=message))

    def batches(split: str, batch_size: int, **extra):
        images = sets.get(split)
        if images is None:
            return None
        return make_batches(images, batch_size, plan.mean, plan.std, device, train=split == "train",
                            channels=data.channels, workers=recipe.data.workers, channels_last=channels_last,
                            on_skipped=warn_later, **extra)

    # evaluation needs no gradients, so larger batches are cheap in memory: but a streamed batch
    # is also decoded and prefetched by every worker, so streams evaluate at the training size
    eval_size = recipe.train.batch_size if data.streamed else max(recipe.train.batch_size, 256)
    eval_cap = 2 if options.dry_run else None
    train = batches("train", recipe.train.batch_size, augment=recipe.data.augment, seed=recipe.seed,
                    max_batches=recipe.train.max_steps_per_epoch)
    val = batches("val", eval_size, max_batches=eval_cap)
    test = batches("test", eval_size, max_batches=eval_cap)
    # ---- the run starts: from here on, everything is recorded
    run_dir = None
    sinks: list[EventSink] = [sink]
    if not options.dry_run:
        if options.resume is not None:
            run_dir = options.resume
        else:
            run_dir = rundir.create_run_dir(options.out, recipe.name)
            rundir.write_recipe(run_dir, recipe_to_dict(recipe))
        sinks.append(rundir.RunDirSink(run_dir))
    fan = FanOut(*sinks)
    late_logs.append(fan)
    trainer = Trainer(recipe, model, train, val, device, fan, control,
                      run_dir / "checkpoints" if run_dir else None, data.class_names, plan.phases, test=test,
                      inference={"class_names": data.class_names, "image_size": data.image_size,
                                 "channels": data.channels, "grayscale": recipe.data.grayscale,
                                 "mean": plan.mean.tolist(), "std": plan.std.tolist(),
                                 "head_only": plan.inputs is not None})
    if state is not None:
        trainer.load_state_dict(state)
    total, trainable = plan.total_params, plan.trainable_params
    started_at = time.time()
    fan.emit(RunStarted(
        run_id=run_dir.name if run_dir else "dry-run", recipe_name=recipe.name, kind=recipe.kind,
        device=device.type, device_name=device_name(device), epochs=recipe.train.epochs,
        steps_per_epoch=len(train), total_steps=len(train) * recipe.train.epochs,
        batch_size=recipe.train.batch_size, num_train=train.num_samples, num_val=val.num_samples,
        num_test=test.num_samples if test is not None else 0,
        num_classes=num_classes, class_names=data.class_names, model_name=plan.model_name,
        layers=plan.layers, total_params=total, trainable_params=trainable, start_step=trainer.step,
        start_epoch=trainer.epoch, resumed=state is not None,
    ))
    for note in notes:
        fan.emit(Log(level="warning", message=note))
    for info in infos:
        fan.emit(Log(level="info", message=info))
    try:
        outcome = trainer.run()
    finally:
        fan.close()
    summary = _summary(recipe, outcome, trainer, device, run_dir, started_at, total)
    if run_dir is not None:
        rundir.write_summary(run_dir, summary)
    return RunResult(outcome.status, EXIT_CODES[outcome.status], run_dir, summary)


def _load_resume_state(run_dir: Path) -> dict[str, Any]:
    if not run_dir.is_dir():
        raise UsageError(f"--resume {run_dir}: no such run directory")
    try:
        return load_checkpoint(run_dir / "checkpoints" / "last.pt")
    except CheckpointError as exc:
        raise UsageError(f"--resume: {exc}") from None


def summary_fields(recipe, status: str, reason: str, device: torch.device, run_dir: Path | None,
                   started_at: float, wall_seconds: float, **specific: Any) -> dict[str, Any]:
    """summary.json: the fields every kind of run has, then its own (`specific`)."""
    return {
        "run_id": run_dir.name if run_dir else None,
        "recipe": recipe.name,
        "kind": recipe.kind,
        "status": status,
        "ok": status in FINISHED_OK,
        "reason": reason,
        "exit_code": EXIT_CODES[status],
        "device": device.type,
        "device_name": device_name(device),
        **specific,
        "wall_seconds": round(wall_seconds, 3),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_at)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _summary(recipe, outcome: Outcome, trainer: Trainer, device: torch.device, run_dir: Path | None,
             started_at: float, params: int) -> dict[str, Any]:
    return summary_fields(
        recipe, outcome.status, outcome.reason, device, run_dir, started_at,
        trainer.elapsed + time.time() - trainer.segment_start,
        epochs_completed=trainer.epoch, epochs_planned=recipe.train.epochs, steps=trainer.step, params=params,
        best_epoch=outcome.best_epoch, best=outcome.best, final=outcome.final,
        **({"test": outcome.test} if outcome.test else {}))
