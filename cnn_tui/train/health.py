"""The run's health: the diagnoser's plain-language findings, the gradient statistics and activation
health of gradient ticks (every `log.grad_every_steps`), and the model views after validation
(confusion, mistakes, feature maps). Everything here only watches: it emits events and never
changes the training."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.events import Diagnosis, Event, Gradients, System
from cnn_tui.contract.status import Severity
from cnn_tui.insight.validation import ValidationCollector
from cnn_tui.insight.views import ModelViews
from cnn_tui.train.diagnose import Diagnoser, Finding
from cnn_tui.train.gradstats import GradientStats


class Health:
    def __init__(self, recipe: Any, model: nn.Module, class_names: list[str], run_dir: Path | None,
                 emit: Callable[[Event], None]) -> None:
        self.emit = emit
        self.grad_every = int(recipe.log.grad_every_steps or 0)
        self.grad_stats = GradientStats(model) if self.grad_every else None
        self.views = ModelViews(recipe.views, model, class_names, run_dir, self.grad_stats is not None)
        self.diagnoser = Diagnoser(num_classes=len(class_names), lr=recipe.train.optimizer.lr,
                                   total_epochs=recipe.train.epochs)

    def report(self, findings: list[Finding], step: int, epoch: int) -> None:
        for f in findings:
            self.emit(Diagnosis(code=f.code, severity=Severity(f.severity), message=f.message, step=step, epoch=epoch))

    def diverged(self, step: int, epoch: int, lr: float) -> list[Diagnosis]:
        """The diagnosis of a NaN (said once a run), for the guard to emit."""
        findings = self.diagnoser.on_step_loss(float("nan"), step, lr)
        return [Diagnosis(code=f.code, severity=Severity(f.severity), message=f.message, step=step, epoch=epoch)
                for f in findings]

    # ---------------------------------------------------------------- steps
    def is_tick(self, step: int) -> bool:
        """Whether the step after `step` steps is a gradient tick."""
        return bool(self.grad_every) and (step + 1) % self.grad_every == 0

    def before_forward(self, tick: bool) -> None:
        if tick:
            self.views.arm()  # activation health: measured on this step's forward

    def before_update(self, tick: bool) -> None:
        if tick and self.grad_stats is not None:
            self.grad_stats.before_step()  # the weights the optimizer is about to change

    def after_update(self, tick: bool, step: int, epoch: int) -> bool:
        """A tick's gradients and activation health, with their findings; True if a gradient is not finite."""
        if not tick or self.grad_stats is None:
            return False
        norms, ratios = self.grad_stats.after_step()  # one sync
        self.emit(Gradients(step=step, epoch=epoch, norms=norms, update_ratios=ratios))
        self.report(self.diagnoser.on_gradients(norms, ratios, step), step, epoch)
        health = self.views.health_event(step, epoch, *self.grad_stats.weights_and_grads())
        if health is not None:
            self.emit(health)
            self.report(self.diagnoser.on_health(health.dead, health.saturated, step), step, epoch)
        return not all(math.isfinite(v) for v in norms.values())

    def on_loss(self, loss: float, step: int, epoch: int, lr: float) -> None:
        self.report(self.diagnoser.on_step_loss(loss, step, lr), step, epoch)

    def on_system(self, sample: System, device: torch.device, step: int, epoch: int) -> None:
        self.report(self.diagnoser.on_system(sample.data_wait, device.type, sample.workers, step), step, epoch)

    # ---------------------------------------------------------------- epochs
    def collector(self, epoch: int, epochs: int, train_seconds: float) -> ValidationCollector | None:
        """Validation's collector for `epoch` (from 1) of `epochs`; the views' budget (insight/budget.py)
        weighs their cost against `train_seconds`, the epoch's training part."""
        return self.views.collector(epoch, epochs, train_seconds)

    def after_validation(self, collector: ValidationCollector | None, model: nn.Module, epoch: int, step: int,
                         mean: torch.Tensor, std: torch.Tensor, is_best: bool) -> None:
        if collector is not None:
            for event in self.views.after_validation(collector, model, epoch, step, mean, std, is_best):
                self.emit(event)

    def at_end(self) -> None:
        """The run ended well (completed or stopped early): the views drawn once, at the end (t-SNE)."""
        for event in self.views.at_end():
            self.emit(event)

    def on_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        self.report(self.diagnoser.on_epoch(epoch, metrics, step), step, epoch)

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {"diagnoser": self.diagnoser.state_dict(), "views": self.views.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.diagnoser.load_state_dict(state["diagnoser"])
        self.views.load_state_dict(state.get("views", {}))  # {}: a checkpoint from before the views' budget
