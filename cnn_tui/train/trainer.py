"""The classification training loop: epochs of mini-batches, validation, checkpoints, events.

The loop is this file; each concern it asks is a part that owns its state and its piece of the
checkpoint (`state_dict`/`load_state_dict`, keyed by part name; train/saver.py lists the layout):

    Totals       train/totals.py     epoch, batch, step, the epochs' metrics, running sums, wall clock
    Phases       train/phases.py     the phase, trainability, optimizer, schedule, loss scaler
    BestKeeper   train/keeper.py     best.pt's monitor, early stopping, the weights it restores
    Health       train/health.py     diagnoses, gradient ticks, activation health, model views
    SystemSampler train/system.py    CPU/GPU/data-wait samples
    Checkpoints  train/saver.py      best.pt and last.pt, every rank's own state gathered
    Guard        train/guard.py      crash, interrupt and divergence endings (shared with style transfer)

The kind (train/kind.py) builds the data and model before, and scores the test split after.

Sync points (the only places the host waits for the device): a logging tick (every
`log.every_steps`: the window's sums), a gradient tick (every `log.grad_every_steps`: the norms),
the end of an epoch (the epoch's sums, validation, checkpoints). Between them the running sums stay
on the device and the host queues steps ahead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.events import EpochEnd, Event, StateChanged, Step
from cnn_tui.contract.sinks import EventSink
from cnn_tui.data.batches import TensorBatches
from cnn_tui.data.stream import StreamBatches
from cnn_tui.data.streams import CURRENT
from cnn_tui.engine.world import World
from cnn_tui.insight.validation import ValidationCollector
from cnn_tui.models.inception import auxiliary_loss
from cnn_tui.models.plan import PhasePlan
from cnn_tui.parallel.agreement import agree_to_stop
from cnn_tui.train.checkpoint_format import FORMAT, upgrade
from cnn_tui.train.compiled import Compiled  # torch.compile opt-in (issue 31)
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import amp_dtype, autocast, memory_in_use
from cnn_tui.train.diagnose import Finding
from cnn_tui.train.guard import Ending, Guard
from cnn_tui.train.health import Health
from cnn_tui.train.keeper import BestKeeper
from cnn_tui.train.phases import Phases
from cnn_tui.train.saver import Checkpoints, Part, rank_state, restore_ranks
from cnn_tui.train.scoring import score
from cnn_tui.train.system import SystemSampler
from cnn_tui.train.totals import Totals
from cnn_tui.train.wall_clock import WallClock

Batches = TensorBatches | StreamBatches
Scores = tuple[float, float, float, list[tuple[int, int]]]


@dataclass
class Outcome(Ending):
    best: dict[str, float] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    best_epoch: int | None = None
    test: dict[str, Any] = field(default_factory=dict)  # the kept checkpoint's test score, if scored


class Trainer:
    def __init__(self, recipe: Any, model: nn.Module, train: Batches, val: Batches, device: torch.device,
                 sink: EventSink, control: RunControl, checkpoint_dir: Path | None, class_names: list[str] | int,
                 phases: list[PhasePlan] | None = None, test: Batches | None = None,
                 inference: dict[str, Any] | None = None, world: World | None = None, streams: int = CURRENT) -> None:
        self.recipe, self.cfg = recipe, recipe.train
        self.model, self.train_batches, self.val_batches, self.test_batches = model, train, val, test
        self.class_names = [str(i) for i in range(class_names)] if isinstance(class_names, int) else class_names
        self.inference = inference or {}  # what `cnn-tui predict` needs besides the weights
        self.device, self.sink, self.control, self.streams = device, sink, control, streams
        self.world = world or World()  # one process, or this rank of a data-parallel run
        self.checkpoint_dir = checkpoint_dir
        self.criterion = nn.CrossEntropyLoss(label_smoothing=self.cfg.label_smoothing)
        self.amp = amp_dtype(device, self.cfg.amp)
        self.totals = Totals(device)
        self.health = Health(recipe, model, self.class_names, checkpoint_dir.parent if checkpoint_dir else None,
                             self.emit)
        plans = phases or [PhasePlan("train", self.cfg.epochs, self.cfg.optimizer, self.cfg.schedule)]
        self.phases = Phases(plans, model, self.world, device, len(train), self.amp == torch.float16,
                             self.health.grad_stats, self.emit)
        self.keeper = BestKeeper(self.cfg)
        every_s = recipe.log.system_every_s if self.world.writes else 0.0  # rank 0 speaks for the run
        self.system = SystemSampler(device, every_s) if every_s else None
        self.checkpoints = Checkpoints(checkpoint_dir, self.world, self.emit)
        self.guard = Guard(self.emit, control, self.world.why_failed)
        self.parts: dict[str, Part] = {"position": self.totals, "phases": self.phases, "best": self.keeper,
                                       "health": self.health, **({"system": self.system} if self.system else {})}
        self.resume_note = ""  # said after run_started when a resume could not be exact
        self.lr = self.phases.lr  # the latest step's (the logged one)
        self.elapsed_epoch = 0.0
        self.compiled = Compiled(self.cfg.compile, self.emit)  # torch.compile opt-in (issue 31): train/compiled.py

    def emit(self, event: Event) -> None:
        self.sink.emit(event)

    @property
    def step(self) -> int:
        return self.totals.step

    @property
    def epoch(self) -> int:
        return self.totals.epoch

    @property
    def clock(self) -> WallClock:
        return self.totals.clock

    # ------------------------------------------------------------------ epoch loop
    def run(self) -> Outcome:
        self.clock.start_segment()
        batch = self.cfg.batch_size
        ending = self.guard.run(self._loop, f"CUDA out of memory at batch size {batch}; try train.batch_size "
                                            f"{max(1, batch // 2)}, a smaller data.image_size, or train.amp: auto")
        if ending.status in ("completed", "early_stopped"):  # issue 29: the feature space's t-SNE, once
            self.health.at_end()
        history, best_epoch = self.totals.history, self.keeper.best_epoch
        return Outcome(ending.status, ending.reason, best=self.totals.metrics_of(best_epoch),
                       final=dict(history[-1]) if history else {}, best_epoch=best_epoch)

    def _loop(self) -> Ending:
        t, phases = self.totals, self.phases
        if len(phases.plans) > 1 and t.step == 0 and t.batch == 0:
            phases.enter(0, t.step, t.epoch)  # announce the first phase of a fresh run
        while t.epoch < self.cfg.epochs:
            if (index := phases.for_epoch(t.epoch)) != phases.index:
                phases.enter(index, t.step, t.epoch)
            stopped = self._train_epoch()
            if stopped is not None:
                return stopped
            metrics = self._end_epoch()
            if not all(math.isfinite(v) for v in metrics.values()):
                return self._diverged("a non-finite metric at the end of the epoch")
            if self.keeper.stop_now:
                return self._early_stop()
            if self._agreed(pause=False)[0]:
                return Ending("interrupted", self.control.stop_reason or "interrupted")
        return Ending("completed", f"trained {t.epoch} epochs")

    def _train_epoch(self) -> Ending | None:
        t = self.totals
        self.model.train()
        epoch_start = tick_time = time.time()
        tick_images = 0
        batches: Iterator[tuple[torch.Tensor, torch.Tensor]] = iter(self.train_batches.epoch(t.epoch, t.batch))
        if self.system is not None:
            batches = self.system.timed(batches)  # the System pane's data-wait share
        for x, y in batches:
            stop, skip = self._agreed(pause=True, empty=len(y) == 0)
            if stop:
                return self.guard.interrupted(lambda reason: self._save("last", reason))
            if skip:  # every image of this streamed batch (of some rank's) was unreadable
                t.batch += 1
                continue
            if self._train_step(x, y, self.health.is_tick(t.step)):  # a gradient tick syncs
                return self._diverged("NaN or Inf gradients")
            t.batch += 1
            if self.control.checkpoint_due:  # "save a checkpoint now" (cnn-tui checkpoint), agreed by every rank
                self.control.checkpoint_due = False
                self._save("last", reason="requested")
            tick_images += len(y) * self.world.size  # every rank's slice of the global batch
            if t.step % self.recipe.log.every_steps == 0:
                now = time.time()
                if self._log_step(tick_images / max(now - tick_time, 1e-9)):  # sync point: the window's sums
                    return self._diverged("a NaN or Inf loss")
                tick_time, tick_images = now, 0
                self._sample_system()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # sync point: the epoch time counts finished work
        self.elapsed_epoch = time.time() - epoch_start
        return None

    def _train_step(self, x: torch.Tensor, y: torch.Tensor, grad_tick: bool) -> bool:
        """One optimizer step; True if the gradients were not finite (known at gradient ticks only)."""
        t, health, optimizer, scaler = self.totals, self.health, self.phases.optimizer, self.phases.scaler
        lr = self.phases.lr_at(t.step)
        health.before_forward(grad_tick)
        with autocast(self.device, self.amp):
            # DDP: the backward pass averages gradients over the ranks; compiled: train.compile (issue 31)
            logits = self.compiled(self.phases.forward_model, grad_tick)(x)
            main = loss = self.criterion(logits, y)
            aux = auxiliary_loss(self.model, y, self.criterion)  # GoogLeNet's side heads, weighted 0.3
            if aux is not None:
                loss = main + aux
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if grad_tick or self.cfg.grad_clip:
            scaler.unscale_(optimizer)
        if self.cfg.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        health.before_update(grad_tick)
        scaler.step(optimizer)
        scaler.update()
        with torch.no_grad():  # the classifier's loss (no side heads): comparable with val/loss
            t.add(main.detach().double() * len(y), (logits.argmax(1) == y).sum(), float(len(y)))
        t.step += 1
        if health.after_update(grad_tick, t.step, t.epoch):
            return True
        self.lr = lr
        return False

    def _log_step(self, images_per_sec: float) -> bool:
        """Emit averaged step metrics (one sync); True if the loss is not finite."""
        t = self.totals
        loss, acc = t.read_window(self.world)
        self.health.on_loss(loss, t.step, t.epoch, self.lr)
        self.emit(Step(step=t.step, epoch=t.epoch, metrics={"train/loss": loss, "train/acc": acc, "lr": self.lr},
                       images_per_sec=images_per_sec, memory_mb=memory_in_use(self.device) / 2**20))
        return not math.isfinite(loss)

    def _sample_system(self) -> None:
        sample = self.system.sample_if_due(self.step, self.epoch) if self.system is not None else None
        if sample is not None:
            self.emit(sample)
            self.health.on_system(sample, self.device, self.step, self.epoch)

    def _agreed(self, pause: bool, empty: bool = False) -> tuple[bool, bool]:
        return agree_to_stop(self.world, self.control,
                             lambda state: self.emit(StateChanged(state=state, step=self.step)), pause, empty)

    # ------------------------------------------------------------------ epoch end
    def _end_epoch(self) -> dict[str, float]:
        t = self.totals
        collector = self.health.collector(t.epoch + 1, self.cfg.epochs, self.elapsed_epoch)  # views' budget
        val_loss, val_acc = self.evaluate(collector)  # sync point: one per pass
        if collector is not None and collector.confusion:
            collector.counts = self.world.sum_(collector.totals(self.device))  # the mistakes stay rank 0's share
        metrics = t.end_epoch(self.world, {"val/loss": val_loss, "val/acc": val_acc, "lr": self.phases.lr})
        is_best = self.keeper.update(metrics, t.epoch, self.model)
        self.emit(EpochEnd(epoch=t.epoch, step=t.step, metrics=metrics, seconds=self.elapsed_epoch, is_best=is_best))
        prep = self.val_batches.prep
        self.health.after_validation(collector, self.model, t.epoch, t.step, prep.mean, prep.std, is_best)
        self.phases.epoch_end(val_loss)
        self.health.on_epoch(t.epoch, metrics, t.step)
        if all(math.isfinite(v) for v in metrics.values()):
            if is_best:
                self._save("best")
            self._save("last")
        return metrics

    def evaluate(self, collector: ValidationCollector | None = None) -> tuple[float, float]:
        loss, correct, count, _ = self.score(self.val_batches, collector)
        return loss / max(count, 1), correct / max(count, 1)

    def score(self, batches: Batches, collector: ValidationCollector | None = None) -> Scores:
        """(summed loss, correct, count, per class (correct, count)) over one pass; one sync at the end."""
        return score(self.model, batches, self.device, len(self.class_names), lambda: autocast(self.device, self.amp),
                     collector, self.world.sum_ if batches is not self.test_batches else None)

    def _early_stop(self) -> Ending:
        message = self.keeper.stop_message(self.cfg)
        restored = self.keeper.restore(self.model)
        if restored is not None:
            message += f" Restored the weights of epoch {restored}."
            self._save("last")
        self.health.report([Finding("early_stopped", "info", message)], self.step, self.epoch)
        return Ending("early_stopped", message)

    def _diverged(self, what: str) -> Ending:
        return self.guard.diverged(f"training diverged ({what}) at step {self.step}; the last good checkpoint "
                                   "is kept", self.health.diverged(self.step, self.epoch, self.phases.lr))

    # ------------------------------------------------------------------ checkpoints
    def _save(self, name: str, reason: str | None = None) -> None:
        self.checkpoints.save(name, self.state_dict, lambda: rank_state(self.device, self.totals), self.step,
                              self.epoch, reason)

    def state_dict(self, ranks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The checkpoint (train/saver.py): one entry per part; `ranks` every rank's own (else this one's)."""
        return {"format": FORMAT, "model": self.model.state_dict(), "inference": self.inference,
                **{name: part.state_dict() for name, part in self.parts.items()},
                "streams": self.streams, "ranks": ranks or [rank_state(self.device, self.totals)],
                "world_size": self.world.size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = upgrade(state)  # a checkpoint of an earlier cnn-tui: train/checkpoint_format.py
        self.model.load_state_dict(state["model"])
        for name, part in self.parts.items():
            part.load_state_dict(state.get(name, {}))  # {}: "system", from a run that did not sample
        self.resume_note = restore_ranks(state["ranks"], self.world, self.device, self.totals)
        self.lr = self.phases.lr
