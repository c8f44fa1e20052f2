"""The classification kinds (scratch, feature extraction, fine-tuning) as an engine plug-in of
runner.execute: data, model plan and batches before the run directory exists; the trainer after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import Event, Log, RunStarted
from cnn_tui.contract.kinds import kind_spec
from cnn_tui.contract.sinks import EventSink
from cnn_tui.contract.status import FINISHED_OK
from cnn_tui.data.batches import WHOLE, Shard
from cnn_tui.data.bundle import DataBundle
from cnn_tui.data.expected import PRETRAINED_CHANNELS
from cnn_tui.data.sources import load_data
from cnn_tui.data.stream import make_batches
from cnn_tui.data.streams import Streams
from cnn_tui.engine.validate import check_view_layers
from cnn_tui.engine.world import World
from cnn_tui.models.plan import ModelPlan, plan_model
from cnn_tui.preflight.leak_warning import check_before_training  # preflight (issue 30)
from cnn_tui.train import compiled
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import uses_channels_last
from cnn_tui.train.final_score import score_test_split
from cnn_tui.train.heap import keep_freed_memory
from cnn_tui.train.trainer import Batches, Outcome, Trainer


class ClassificationKind:
    def dry_run(self, recipe: Any) -> Any:
        recipe = recipe.model_copy(deep=True)
        recipe.train.epochs = 1
        recipe.train.max_steps_per_epoch = 2
        return recipe

    def prepare(self, recipe: Any, device: torch.device, dry_run: bool, world: World,
                streams: Streams | None = None) -> PreparedClassification:
        notes: list[str] = []
        infos: list[str] = []
        streams = streams or Streams(recipe.seed)
        channels = PRETRAINED_CHANNELS if kind_spec(recipe.kind).pretrained_base else None
        data = load_data(recipe.data, streams, log=notes.append, channels=channels, info=infos.append)
        infos.insert(0, data.description)
        if world.distributed:
            infos.append(_global_batch_note(recipe, world))
        compiled.check(recipe, device)  # train.compile where it cannot work: refused before anything is written
        plan = plan_model(recipe, data, device, infos.append)
        check_view_layers(plan.model, recipe.views)  # before the run directory exists
        channels_last = uses_channels_last(device, recipe.train.channels_last) and plan.inputs is None
        model = _for_the_world(plan.model, recipe, device, world).to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        prepared = PreparedClassification(recipe, device, data, plan, model, notes, infos, world)
        if world.rank == 0:  # preflight (issue 30): val/test copies of training images, said before training
            prepared.preflight = check_before_training(data, recipe.data.workers,
                                                        recipe.data.decode_cache).events
        sets = plan.inputs or {"train": data.train, "val": data.val, "test": data.test}
        shard = Shard(world.rank, world.size)
        per_rank = _split_the_batch(len(sets["train"].y), recipe.train.batch_size, world)

        def batches(split: str, batch_size: int, **extra: Any) -> Batches | None:
            images = sets.get(split)
            if images is None:
                return None
            made: Batches = make_batches(images, batch_size, plan.mean, plan.std, device, train=split == "train",
                                         channels=data.channels, workers=recipe.data.workers,
                                         channels_last=channels_last, on_skipped=prepared.warn_later,
                                         shard=WHOLE if split == "test" else shard, **extra)
            return made

        # evaluation needs no gradients, so larger batches are cheap in memory: but a streamed batch
        # is also decoded and prefetched by every worker, so streams evaluate at the training size
        eval_size = recipe.train.batch_size if data.streamed else max(recipe.train.batch_size, 256)
        eval_cap = 2 if dry_run else None
        prepared.train = batches("train", per_rank, augment=recipe.data.augment, seed=streams,
                                 max_batches=recipe.train.max_steps_per_epoch)
        prepared.val = batches("val", eval_size, max_batches=eval_cap)
        prepared.test = batches("test", eval_size, max_batches=eval_cap)
        return prepared

    def describe(self, recipe: Any) -> tuple[list[dict[str, Any]], int, int, str]:
        from cnn_tui.engine.validate import describe_classifier

        return describe_classifier(recipe)

    def check(self, recipe: Any, path: Path) -> str:
        from cnn_tui.engine.validate import check_classifier

        return check_classifier(recipe, path)


@dataclass
class PreparedClassification:
    recipe: Any
    device: torch.device
    data: DataBundle
    plan: ModelPlan
    model: torch.nn.Module
    notes: list[str]  # warnings found while loading, logged once the run has started
    infos: list[str]
    world: World
    train: Any = None
    val: Any = None
    test: Any = None
    sinks: list[EventSink] = field(default_factory=list)  # the run's, once it has started
    preflight: list[Event] = field(default_factory=list)  # preflight (issue 30): the leakage check's events

    def warn_later(self, message: str) -> None:
        """Streaming reports skipped files while the run goes on: into the run's sinks."""
        for sink in self.sinks:
            sink.emit(Log(level="warning", message=message))

    def start(self, sink: EventSink, control: RunControl, run_dir: Path | None) -> Trainer:
        self.sinks.append(sink)
        data, plan = self.data, self.plan
        if self.device.type == "cpu" and not data.streamed:  # a stream keeps glibc's default: its memory budget
            keep_freed_memory()  # validation's batches reused, not faulted in afresh (train/heap.py)
        return Trainer(self.recipe, self.model, self.train, self.val, self.device, sink, control,
                       run_dir / "checkpoints" if run_dir else None, data.class_names, plan.phases, test=self.test,
                       inference={"class_names": data.class_names, "image_size": data.image_size,
                                  "channels": data.channels, "grayscale": self.recipe.data.grayscale,
                                  "mean": plan.mean.tolist(), "std": plan.std.tolist(),
                                  "head_only": plan.inputs is not None}, world=self.world,
                       streams=data.streams)

    def started(self, loop: Trainer, **common: Any) -> RunStarted:
        train, recipe = self.train, self.recipe
        return RunStarted(
            **common, epochs=recipe.train.epochs, steps_per_epoch=len(train),
            total_steps=len(train) * recipe.train.epochs,
            batch_size=recipe.train.batch_size, num_train=train.num_samples, num_val=self.val.num_samples,
            num_test=self.test.num_samples if self.test is not None else 0,
            num_classes=len(self.data.class_names), class_names=self.data.class_names,
            model_name=self.plan.model_name, layers=self.plan.layers, total_params=self.plan.total_params,
            trainable_params=self.plan.trainable_params, start_epoch=loop.epoch)

    def after_started(self, sink: EventSink, run_dir: Path | None, loop: Trainer) -> None:
        for note in self.notes:
            sink.emit(Log(level="warning", message=note))
        for info in self.infos:
            sink.emit(Log(level="info", message=info))
        if loop.resume_note:
            sink.emit(Log(level="warning", message=loop.resume_note))
        for event in self.preflight:  # preflight (issue 30)
            sink.emit(event)

    def finish(self, outcome: Outcome, loop: Trainer) -> None:
        """After training: the test split, scored whole by rank 0 alone (it reads best.pt, which only its
        node may have), into `outcome.test`. A failure here leaves the training result standing."""
        if outcome.status not in FINISHED_OK or self.test is None or not self.world.writes:
            return
        test = self.test
        try:
            outcome.test = score_test_split(loop.model, lambda: loop.score(test), loop.checkpoint_dir, outcome.status,
                                            loop.keeper.restored_epoch(outcome.status), loop.epoch,
                                            self.recipe.train.checkpoint.monitor, loop.class_names, loop.emit)
        except Exception as exc:  # the training result stands; only its test score is missing
            loop.emit(Log(level="error", message=f"the test set could not be scored: {type(exc).__name__}: {exc}"))

    def summary(self, outcome: Outcome, loop: Trainer) -> dict[str, Any]:
        return dict(epochs_completed=loop.epoch, epochs_planned=self.recipe.train.epochs, steps=loop.step,
                    params=self.plan.total_params, macs=sum(r.get("macs", 0) for r in self.plan.layers),
                    best_epoch=outcome.best_epoch, best=outcome.best,
                    final=outcome.final, **({"test": outcome.test} if outcome.test else {}),
                    **loop.health.views.summary())


def _for_the_world(model: torch.nn.Module, recipe: Any, device: torch.device, world: World) -> torch.nn.Module:
    """SyncBatchNorm where the recipe asks for batch statistics over the global batch."""
    if not (world.distributed and recipe.train.distributed.sync_batchnorm):
        return model
    if device.type != "cuda":
        raise UsageError(f"train.distributed.sync_batchnorm: torch's SyncBatchNorm runs on CUDA only, and this run "
                         f"is on {device.type}; set it to false (each process then normalises its own batch)")
    synced: torch.nn.Module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # type: ignore[no-untyped-call]
    return synced


def _global_batch_note(recipe: Any, world: World) -> str:
    """Said once at the start: the same steps as one process, each split among the processes."""
    batch = recipe.train.batch_size
    return (f"data-parallel on {world.size} processes ({world.backend}): each step's {batch} images are split "
            f"{world.size} x {batch // world.size}; the same steps, batch and learning rate as one process")


def _split_the_batch(count: int, batch_size: int, world: World) -> int:
    """Each process's share of the recipe's batch (train.batch_size is the global batch, so a recipe
    trains the same on any number of processes)."""
    if not world.distributed:
        return batch_size
    if batch_size % world.size:
        lower, upper = batch_size // world.size * world.size, (batch_size // world.size + 1) * world.size
        raise UsageError(f"train.batch_size: {batch_size} images do not split evenly among {world.size} processes; "
                         f"use a multiple of {world.size}, e.g. {lower or upper} or {upper}")
    if count < batch_size:
        raise UsageError(f"train.batch_size: a step of {batch_size} images split among {world.size} processes needs "
                         f"at least {batch_size} training images, and the training split has {count}; lower "
                         "train.batch_size")
    return batch_size // world.size
