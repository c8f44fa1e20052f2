"""The training loop: epochs of mini-batches, validation, checkpoints, events.

Sections: setup / epoch loop / one step / epoch end / checkpoints / resume state.
The loop syncs with the device only at logging ticks (every `log.every_steps`), at
gradient ticks and at epoch ends; running sums stay on the device in between.
"""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import DataError, WriteError
from cnn_tui.contract.events import (
    CheckpointSaved,
    Diagnosis,
    EpochEnd,
    Gradients,
    Log,
    PhaseChanged,
    StateChanged,
    Step,
)
from cnn_tui.contract.sinks import EventSink
from cnn_tui.contract.status import FINISHED_OK, Severity
from cnn_tui.data.batches import TensorBatches
from cnn_tui.data.stream import StreamBatches
from cnn_tui.engine.world import World
from cnn_tui.insight.validation import ValidationCollector
from cnn_tui.insight.views import ModelViews
from cnn_tui.models.inception import auxiliary_loss
from cnn_tui.models.transfer import TransferNet
from cnn_tui.parallel.agreement import agree_to_stop
from cnn_tui.train.checkpoint import CheckpointError, save_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import amp_dtype, memory_in_use
from cnn_tui.train.diagnose import Diagnoser, Finding
from cnn_tui.train.final_score import score_test_split
from cnn_tui.train.gradstats import GradientStats
from cnn_tui.train.monitor import Monitor
from cnn_tui.train.optim import build_optimizer
from cnn_tui.train.resume_state import rank_state, restore_trainer, trainer_state
from cnn_tui.train.schedule import LRSchedule
from cnn_tui.train.scoring import score
from cnn_tui.train.system import SystemSampler
from cnn_tui.train.wall_clock import WallClock

Batches = TensorBatches | StreamBatches


@dataclass
class Outcome:
    status: str  # completed, early_stopped, interrupted, diverged, failed
    reason: str = ""
    best: dict[str, float] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    best_epoch: int | None = None
    test: dict[str, Any] = field(default_factory=dict)  # the kept checkpoint's test score, if scored


class Trainer:
    # ------------------------------------------------------------------ setup
    def __init__(self, recipe, model: nn.Module, train: Batches, val: Batches,
                 device: torch.device, sink: EventSink, control: RunControl,
                 checkpoint_dir: Path | None, class_names: list[str] | int, phases: list | None = None,
                 test: Batches | None = None, inference: dict[str, Any] | None = None,
                 world: World | None = None) -> None:
        from cnn_tui.models.plan import PhasePlan

        self.recipe, self.cfg = recipe, recipe.train
        self.model, self.train_batches, self.val_batches, self.test_batches = model, train, val, test
        if isinstance(class_names, int):
            class_names = [str(i) for i in range(class_names)]
        self.class_names = class_names
        self.inference = inference or {}  # what `cnn-tui predict` needs besides the weights
        num_classes = len(class_names)
        self.device, self.sink, self.control = device, sink, control
        self.world = world or World()  # one process, or this rank of a data-parallel run
        self.forward_model: nn.Module = model  # what training steps call: DDP-wrapped when distributed
        self.checkpoint_dir = checkpoint_dir
        self.phases = phases or [PhasePlan("train", self.cfg.epochs, self.cfg.optimizer, self.cfg.schedule)]
        self.phase_index, self.phase_start_step = -1, 0
        self.criterion = nn.CrossEntropyLoss(label_smoothing=self.cfg.label_smoothing)
        self.amp = amp_dtype(device, self.cfg.amp)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)
        self.grad_stats = GradientStats(model) if recipe.log.grad_every_steps else None
        run_dir = checkpoint_dir.parent if checkpoint_dir is not None else None
        self.views = ModelViews(recipe.views, model, class_names, run_dir, self.grad_stats is not None)
        es = self.cfg.early_stopping
        self.early = Monitor(es.monitor, es.mode, es.min_delta, es.patience) if es.enabled else None
        self.best = Monitor(self.cfg.checkpoint.monitor, self.cfg.checkpoint.mode)
        self.diagnoser = Diagnoser(num_classes=num_classes, lr=self.cfg.optimizer.lr, total_epochs=self.cfg.epochs)
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.epoch = 0  # epochs completed
        self.batch = 0  # next batch index within the current epoch
        self.step = 0  # optimizer steps taken
        self.history: list[dict[str, float]] = []
        self.clock = WallClock()
        every_s = recipe.log.system_every_s if self.world.writes else 0.0  # rank 0 speaks for the run
        self.system = SystemSampler(device, every_s) if every_s else None
        self.resume_note = ""  # said after run_started when a resume could not be exact
        self._reset_sums(epoch=True)
        self._enter_phase(0, announce=False)
        self.lr = self.optimizer.param_groups[0]["lr"]

    def emit(self, event) -> None:
        self.sink.emit(event)

    # ------------------------------------------------------------------ phases
    def _phase_for(self, epoch: int) -> int:
        end = 0
        for index, phase in enumerate(self.phases):
            end += phase.epochs
            if epoch < end:
                return index
        return len(self.phases) - 1

    def _enter_phase(self, index: int, announce: bool = True) -> None:
        """Set trainability, and build the phase's optimizer and schedule."""
        phase = self.phases[index]
        unfrozen: list[str] = []
        transfer = self.model if isinstance(self.model, TransferNet) else None  # a base and a new head
        if phase.unfreeze is not None and transfer is not None:
            unfrozen = transfer.set_trainable(phase.unfreeze)
        params: Any
        if transfer is not None:
            params = transfer.param_groups(phase.optimizer.lr, phase.base_lr_factor)
        else:
            params = self.model.parameters()
        self.optimizer = build_optimizer(phase.optimizer, params)
        self.forward_model = self.world.wrap(self.model, self.device)  # DDP hooks only this phase's trainable ones
        self.schedule = LRSchedule(phase.schedule, len(self.train_batches), phase.epochs)
        self.phase_index, self.phase_start_step = index, self.step
        if self.grad_stats is not None:
            self.grad_stats.refresh(self.model)
        if announce:
            trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
            self.emit(PhaseChanged(index=index, name=phase.name, epoch=self.epoch, step=self.step,
                                   unfrozen=unfrozen, trainable_params=trainable, lr=phase.optimizer.lr))
            self.emit(Log(level="info", message=f"phase {index + 1}/{len(self.phases)} '{phase.name}': "
                          + (f"unfroze {', '.join(unfrozen)}; " if unfrozen else "base frozen; ")
                          + f"{trainable:,} trainable parameters, lr {phase.optimizer.lr:g}"))

    def _reset_sums(self, epoch: bool) -> None:
        zero = lambda: torch.zeros((), device=self.device, dtype=torch.float64)  # noqa: E731
        if epoch:
            self.sums = {"loss": zero(), "correct": zero(), "count": zero()}
        self.window = {"loss": zero(), "correct": zero(), "count": zero()}

    def _autocast(self):
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp)

    # ------------------------------------------------------------------ epoch loop
    def run(self) -> Outcome:
        self.clock.start_segment()
        try:
            outcome = self._loop()
        except torch.cuda.OutOfMemoryError:
            outcome = Outcome("failed", f"CUDA out of memory at batch size {self.cfg.batch_size}; "
                                        f"try train.batch_size {max(1, self.cfg.batch_size // 2)}, a "
                                        "smaller data.image_size, or train.amp: auto")
        except (CheckpointError, DataError, WriteError) as exc:  # WriteError: events.jsonl, a full disk
            outcome = Outcome("failed", str(exc))
        except Exception as exc:  # a crash must still end with a summary and an exit code
            self.emit(Log(level="error", message=traceback.format_exc()))
            outcome = Outcome("failed", self.world.why_failed(exc))
        outcome.best = self._best_metrics()
        outcome.best_epoch = self.best.best_epoch
        outcome.final = dict(self.history[-1]) if self.history else {}
        # the test split is scored whole, by rank 0 alone: it reads best.pt, which only its node may have
        if outcome.status in FINISHED_OK and self.test_batches is not None and self.world.writes:
            try:
                outcome.test = score_test_split(self, outcome)
            except Exception as exc:  # the training result stands; only its test score is missing
                self.emit(Log(level="error", message=f"the test set could not be scored: {type(exc).__name__}: {exc}"))
        return outcome  # runner.execute writes summary.json, then emits RunFinished

    def _loop(self) -> Outcome:
        if len(self.phases) > 1 and self.step == 0 and self.batch == 0:
            self._enter_phase(0)  # announce the first phase of a fresh run
        while self.epoch < self.cfg.epochs:
            target = self._phase_for(self.epoch)
            if target != self.phase_index:
                self._enter_phase(target)
            stopped = self._train_epoch()
            if stopped is not None:
                return stopped
            metrics = self._end_epoch()
            if not all(math.isfinite(v) for v in metrics.values()):
                return self._diverged("a non-finite metric at the end of the epoch")
            if self.early is not None and self.early.exhausted:
                return self._early_stop()
            if self._agreed(pause=False)[0]:
                return Outcome("interrupted", self.control.stop_reason or "interrupted")
        return Outcome("completed", f"trained {self.epoch} epochs")

    def _train_epoch(self) -> Outcome | None:
        self.model.train()
        epoch_start = time.time()
        tick_time, tick_images = time.time(), 0
        grad_every = self.recipe.log.grad_every_steps
        every = self.recipe.log.every_steps
        batches = iter(self.train_batches.epoch(self.epoch, self.batch))
        while (batch := self._next_batch(batches)) is not None:
            x, y = batch
            stop, skip = self._agreed(pause=True, empty=len(y) == 0)
            if stop:
                return self._interrupt()
            if skip:  # every image of this streamed batch (of some rank's) was unreadable
                self.batch += 1
                continue
            grad_tick = bool(grad_every) and (self.step + 1) % grad_every == 0
            if self._train_step(x, y, grad_tick):
                return self._diverged("NaN or Inf gradients")
            self.batch += 1
            if self.control.checkpoint_due:  # "save a checkpoint now" (cnn-tui checkpoint), agreed by every rank
                self.control.checkpoint_due = False
                self._save("last", reason="requested")
            tick_images += len(y) * self.world.size  # every rank's slice of the global batch
            if self.step % every == 0:
                now = time.time()
                if self._log_step(tick_images / max(now - tick_time, 1e-9)):
                    return self._diverged("a NaN or Inf loss")
                tick_time, tick_images = now, 0
                self._sample_system()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # sync point: the epoch time counts finished work
        self.elapsed_epoch = time.time() - epoch_start
        return None

    def _next_batch(self, batches) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The next batch, timing the wait for it (the System pane's data-wait share)."""
        if self.system is None:
            return next(batches, None)
        self.system.asking()
        batch = next(batches, None)
        self.system.got() if batch is not None else self.system.epoch_ended()
        return batch

    def _sample_system(self) -> None:
        if self.system is not None and self.system.due():
            sample = self.system.sample(self.step, self.epoch)
            self.emit(sample)
            self._report(self.diagnoser.on_system(sample.data_wait, self.device.type, sample.workers, self.step))

    def _agreed(self, pause: bool, empty: bool = False) -> tuple[bool, bool]:
        return agree_to_stop(self.world, self.control,
                             lambda state: self.emit(StateChanged(state=state, step=self.step)), pause, empty)

    # ------------------------------------------------------------------ one step
    def _train_step(self, x: torch.Tensor, y: torch.Tensor, grad_tick: bool) -> bool:
        """One optimizer step; True if the gradients were not finite."""
        lr = self.schedule.apply(self.optimizer, self.step - self.phase_start_step)
        if grad_tick:
            self.views.arm()  # activation health: measured on this step's forward
        with self._autocast():
            logits = self.forward_model(x)  # DDP: the backward pass averages gradients over the ranks
            main = loss = self.criterion(logits, y)
            aux = auxiliary_loss(self.model, y, self.criterion)  # GoogLeNet's side heads, weighted 0.3
            if aux is not None:
                loss = main + aux
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if grad_tick or self.cfg.grad_clip:
            self.scaler.unscale_(self.optimizer)
        if self.cfg.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        if grad_tick and self.grad_stats is not None:
            self.grad_stats.before_step()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        with torch.no_grad():
            batch = float(len(y))
            correct = (logits.argmax(1) == y).sum()
            for sums in (self.sums, self.window):
                sums["loss"] += main.detach().double() * batch  # the classifier's: comparable with val/loss
                sums["correct"] += correct
                sums["count"] += batch
        self.step += 1
        if grad_tick and self.grad_stats is not None:
            norms, ratios = self.grad_stats.after_step()
            self.emit(Gradients(step=self.step, epoch=self.epoch, norms=norms, update_ratios=ratios))
            self._report(self.diagnoser.on_gradients(norms, ratios, self.step))
            health = self.views.health_event(self.step, self.epoch, *self.grad_stats.weights_and_grads())
            if health is not None:
                self.emit(health)
                self._report(self.diagnoser.on_health(health.dead, health.saturated, self.step))
            if not all(math.isfinite(v) for v in norms.values()):
                return True
        self.lr = lr
        return False

    def _log_step(self, images_per_sec: float) -> bool:
        """Emit averaged step metrics (one sync); True if the loss is not finite."""
        loss, correct, count = self.world.sum_(torch.stack(list(self.window.values()))).tolist()
        self._reset_sums(epoch=False)
        mean = loss / max(count, 1)
        self._report(self.diagnoser.on_step_loss(mean, self.step, self.lr))
        self.emit(Step(step=self.step, epoch=self.epoch,
                       metrics={"train/loss": mean, "train/acc": correct / max(count, 1), "lr": self.lr},
                       images_per_sec=images_per_sec, memory_mb=memory_in_use(self.device) / 2**20))
        return not math.isfinite(mean)

    # ------------------------------------------------------------------ epoch end
    def evaluate(self, collector: ValidationCollector | None = None) -> tuple[float, float]:
        loss, correct, count, _ = self.score(self.val_batches, collector)
        return loss / max(count, 1), correct / max(count, 1)

    def score(self, batches: Batches, collector: ValidationCollector | None = None
              ) -> tuple[float, float, float, list[tuple[int, int]]]:
        """(summed loss, correct, count, per class (correct, count)) over one pass; one sync at the end."""
        return score(self.model, batches, self.device, len(self.class_names), self._autocast, collector,
                     self.world.sum_ if batches is not self.test_batches else None)

    def _end_epoch(self) -> dict[str, float]:
        loss, correct, count = self.world.sum_(torch.stack(list(self.sums.values()))).tolist()
        collector = self.views.collector()
        val_loss, val_acc = self.evaluate(collector)
        if collector is not None and collector.confusion:
            collector.counts = self.world.sum_(collector.totals(self.device))  # the mistakes stay rank 0's share
        metrics = {"train/loss": loss / max(count, 1), "train/acc": correct / max(count, 1),
                   "val/loss": val_loss, "val/acc": val_acc, "lr": self.optimizer.param_groups[0]["lr"]}
        self.epoch += 1
        self.batch = 0
        self._reset_sums(epoch=True)
        self.history.append(metrics)
        is_best = self.best.update(metrics, self.epoch)
        if self.early is not None and self.early.update(metrics, self.epoch) and self.cfg.early_stopping.restore_best:
            self.best_weights = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        self.emit(EpochEnd(epoch=self.epoch, step=self.step, metrics=metrics,
                           seconds=getattr(self, "elapsed_epoch", 0.0), is_best=is_best))
        if collector is not None:
            prep = self.val_batches.prep
            for event in self.views.after_validation(collector, self.model, self.epoch, self.step,
                                                     prep.mean, prep.std, is_best):
                self.emit(event)
        if self.schedule.epoch_end(val_loss):
            reduced = self.schedule.plateau_scale * self.phases[self.phase_index].optimizer.lr  # this phase's lr
            self.emit(Log(level="info", message=f"validation loss plateaued: learning rate reduced to {reduced:.3g}"))
        self._report(self.diagnoser.on_epoch(self.epoch, metrics, self.step))
        if all(math.isfinite(v) for v in metrics.values()):
            if is_best:
                self._save("best")
            self._save("last")
        return metrics

    def _early_stop(self) -> Outcome:
        es = self.cfg.early_stopping
        assert self.early is not None  # only called when early stopping is on
        message = (f"Early stopping: {es.monitor} has not improved for {es.patience} epochs "
                   f"(best {self.early.best:.4f} at epoch {self.early.best_epoch}).")
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            message += f" Restored the weights of epoch {self.early.best_epoch}."
            self._save("last")
        self._report([Finding("early_stopped", "info", message)])
        return Outcome("early_stopped", message)

    def _interrupt(self) -> Outcome:
        self._save("last", reason="interrupt")
        return Outcome("interrupted", self.control.stop_reason or "interrupted")

    def _diverged(self, what: str) -> Outcome:
        self._report(self.diagnoser.on_step_loss(float("nan"), self.step, self.optimizer.param_groups[0]["lr"]))
        return Outcome("diverged", f"training diverged ({what}) at step {self.step}; "
                                   "the last good checkpoint is kept")

    def _report(self, findings: list[Finding]) -> None:
        for f in findings:
            self.emit(Diagnosis(code=f.code, severity=Severity(f.severity), message=f.message,
                                step=self.step, epoch=self.epoch))

    def _best_metrics(self) -> dict[str, float]:
        if self.best.best_epoch is None:
            return {}
        return dict(self.history[self.best.best_epoch - 1]) if len(self.history) >= self.best.best_epoch else {}

    # ------------------------------------------------------------------ checkpoints
    def _save(self, name: str, reason: str | None = None) -> None:
        ranks = self.world.gather(rank_state(self)) if self.world.distributed else None  # every rank meets here
        if self.checkpoint_dir is None:
            return
        path = self.checkpoint_dir / f"{name}.pt"
        state = self.state_dict()
        if ranks is not None:
            state["ranks"] = ranks
        save_checkpoint(path, state)
        self.emit(CheckpointSaved(path=str(path), step=self.step, epoch=self.epoch, reason=reason or name))

    def state_dict(self) -> dict[str, Any]:
        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore_trainer(self, state)
