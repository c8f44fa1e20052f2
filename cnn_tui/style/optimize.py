"""The style-transfer loop: one optimiser step per iteration on the image's pixels.

L-BFGS does one iteration per step (with a strong-Wolfe line search, which may evaluate
the loss a few times); Adam does one gradient step. Pixels are clamped to [0, 1] after
every step. Stop and pause are polled between steps, like the training loop; snapshots
go to images/, and last.pt holds the image and optimiser state so a run can resume.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnn_tui.events import CheckpointSaved, Diagnosis, Image, Log, RunFinished, StateChanged, Step
from cnn_tui.sinks import EventSink
from cnn_tui.style.images import save_png
from cnn_tui.style.losses import StyleObjective
from cnn_tui.train.checkpoint import CheckpointError, save_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import memory_in_use


@dataclass
class StyleOutcome:
    status: str  # completed, interrupted, diverged, failed
    reason: str = ""
    first: dict[str, float] = field(default_factory=dict)  # losses at step 0
    final: dict[str, float] = field(default_factory=dict)


def make_optimizer(image: torch.Tensor, name: str, lr: float, history_size: int) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam([image], lr=lr)
    # max_iter=1: one iteration per call, so every step can report and be stopped; the
    # tolerances are off because the recipe's step count decides when to finish.
    return torch.optim.LBFGS([image], lr=lr, max_iter=1, max_eval=20, history_size=history_size,
                             tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")


class StyleTransfer:
    def __init__(self, recipe, objective: StyleObjective, image: torch.Tensor, device: torch.device,
                 sink: EventSink, control: RunControl, run_dir: Path | None) -> None:
        self.recipe = recipe
        self.objective = objective
        self.image = image.detach().clone().requires_grad_(True)
        self.device = device
        self.sink = sink
        self.control = control
        self.run_dir = run_dir
        opt = recipe.optimizer
        self.optimizer = make_optimizer(self.image, opt.name, opt.lr, opt.history_size)
        self.step = 0
        self.elapsed = 0.0  # seconds of earlier segments (resumed runs)
        self.segment_start = time.time()
        self.first: dict[str, float] = {}
        self.latest: dict[str, float] = {}
        self.last_good = self.image.detach().clone()
        self._losses = None  # the closure's last evaluation (L-BFGS may evaluate several times a step)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        return {"kind": "style_transfer", "step": self.step, "image": self.image.detach().cpu(),
                "optimizer": self.optimizer.state_dict(), "first": self.first,
                "elapsed": self.elapsed + time.time() - self.segment_start}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            self.image.copy_(state["image"].to(self.device))
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.first, self.elapsed = state["step"], dict(state["first"]), state["elapsed"]
        self.last_good = self.image.detach().clone()

    # ------------------------------------------------------------------ loop
    def run(self) -> StyleOutcome:
        self.segment_start = time.time()
        try:
            outcome = self._loop()
        except torch.cuda.OutOfMemoryError:
            outcome = StyleOutcome("failed", f"CUDA out of memory at {self.recipe.image_size} px; "
                                             "try a smaller image_size")
        except CheckpointError as exc:
            outcome = StyleOutcome("failed", str(exc))
        except Exception as exc:  # a crash still ends with a summary and an exit code
            self.sink.emit(Log(level="error", message=traceback.format_exc()))
            outcome = StyleOutcome("failed", f"{type(exc).__name__}: {exc}")
        outcome.first, outcome.final = dict(self.first), dict(self.latest)
        self._finish(outcome)
        return outcome

    def _closure(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        losses = self.objective(self.image)
        losses.total.backward()
        self._losses = losses
        return losses.total

    def _loop(self) -> StyleOutcome:
        every, snap_every, steps = self.recipe.log.every_steps, self.recipe.log.snapshot_every, self.recipe.steps
        if self.step == 0:
            with torch.no_grad():
                self.first = self.latest = self.objective(self.image).metrics()
            self.sink.emit(Step(step=0, epoch=0, metrics=self.first))
            self._snapshot("init")
        tick_time, tick_steps = time.time(), 0
        while self.step < steps:
            if self.control.stop_requested:
                return self._interrupt()
            self.control.wait_while_paused(lambda s: self.sink.emit(StateChanged(state=s)))
            if self.control.stop_requested:
                return self._interrupt()
            self.optimizer.step(self._closure)
            with torch.no_grad():
                self.image.clamp_(0.0, 1.0)
            self.step += 1
            tick_steps += 1
            log_now = self.step % every == 0 or self.step == 1 or self.step == steps
            if log_now:
                metrics = self._losses.metrics()  # the step's last evaluation, one device sync
                if not math.isfinite(metrics["loss/total"]):
                    return self._diverged()
                self.latest = metrics
                self.last_good = self.image.detach().clone()
                now = time.time()
                self.sink.emit(Step(step=self.step, epoch=0, metrics=metrics,
                                    images_per_sec=tick_steps / max(now - tick_time, 1e-9),
                                    memory_mb=memory_in_use(self.device) / 2**20))
                tick_time, tick_steps = now, 0
            if self.step % snap_every == 0 and self.step < steps:
                self._snapshot("snapshot")
                self._save_checkpoint("last")
        self._snapshot("final")
        return StyleOutcome("completed", f"optimised the image for {self.step} steps")

    # ------------------------------------------------------------------ outputs
    def _snapshot(self, tag: str, image: torch.Tensor | None = None) -> None:
        if self.run_dir is None:
            return
        name = "final.png" if tag == "final" else f"step_{self.step:05d}.png"
        path = self.run_dir / "images" / name
        save_png(self.image if image is None else image, path)
        self.sink.emit(Image(step=self.step, path=str(path.relative_to(self.run_dir)), tag=tag))

    def _save_checkpoint(self, reason: str) -> None:
        if self.run_dir is None:
            return
        path = self.run_dir / "checkpoints" / "last.pt"
        save_checkpoint(path, self.state_dict())
        self.sink.emit(CheckpointSaved(path=str(path), step=self.step, epoch=0, reason=reason))

    def _interrupt(self) -> StyleOutcome:
        self._snapshot("final")
        self._save_checkpoint("interrupt")
        return StyleOutcome("interrupted", self.control.stop_reason)

    def _diverged(self) -> StyleOutcome:
        message = (f"the loss became NaN or Inf at step {self.step}: lower style_weight or optimizer.lr; "
                   "final.png is the last good image")
        self.sink.emit(Diagnosis(code="nan", severity="error", message=message, step=self.step, epoch=0))
        self._snapshot("final", self.last_good)
        return StyleOutcome("diverged", f"the loss became NaN or Inf at step {self.step}")

    def _finish(self, outcome: StyleOutcome) -> None:
        for diagnosis in read_losses(outcome.first, outcome.final, self.step):
            self.sink.emit(diagnosis)
        wall = self.elapsed + time.time() - self.segment_start
        self.sink.emit(RunFinished(status=outcome.status, reason=outcome.reason, step=self.step, epoch=0,
                                   wall_seconds=wall, best={}, final=outcome.final))


def read_losses(first: dict[str, float], final: dict[str, float], step: int) -> list[Diagnosis]:
    """Plain words for how the losses moved: what a learner should take from the curves."""
    if not first or not final or step < 2:
        return []
    out = []
    style0, style1 = first.get("loss/style", 0.0), final.get("loss/style", 0.0)
    content1 = final.get("loss/content", 0.0)
    if style0 > 0 and style1 > 0:
        drop = style0 / style1
        if drop >= 2:
            out.append(Diagnosis(code="style_fell", severity="info", step=step, epoch=0, message=(
                f"The style loss fell {drop:,.0f}x (from {style0:.3g} to {style1:.3g}): the image's feature "
                "correlations now resemble the style image's.")))
        else:
            out.append(Diagnosis(code="style_flat", severity="warning", step=step, epoch=0, message=(
                f"The style loss barely moved ({style0:.3g} to {style1:.3g}): raise style_weight, or "
                "run more steps.")))
    if style1 > 0 and content1 > 0:
        ratio = content1 / style1
        if ratio > 10:
            out.append(Diagnosis(code="content_dominates", severity="info", step=step, epoch=0, message=(
                f"Content loss is {ratio:.0f}x the style loss at the end: the content wins; raise "
                "style_weight for a stronger style.")))
        elif ratio < 0.1:
            out.append(Diagnosis(code="style_dominates", severity="info", step=step, epoch=0, message=(
                f"Style loss is {1 / ratio:.0f}x the content loss at the end: the style wins; raise "
                "content_weight to keep more of the content image.")))
    return out
