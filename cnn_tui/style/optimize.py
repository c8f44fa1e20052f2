"""The style-transfer loop: one optimiser step per iteration on the image.

The optimiser never sees pixels directly: it moves an unconstrained tensor (the *latent*)
and the image is its reflection into [0, 1] (a triangle wave: 0.3 -> 0.3, 1.2 -> 0.8,
-0.1 -> 0.1), always a valid picture. Clamping pixels after each step instead moves the
point behind L-BFGS's back: its curvature history and line search then describe another
function, and measured on a cat x rocket-photo pair the total loss rose on 69 of 100
steps and ended above where it started. A sigmoid keeps the range too, but its slope
near 0 and 1 is ~0.01: a photo's white and black regions barely move, and on a portrait
with a white suit and a black sky the style loss fell 8x where the reflection gives 22x.
The reflection's slope is 1 everywhere, and the line search guarantees every L-BFGS step
lowers the loss; the loop checks that it does.

L-BFGS does one iteration per step (a strong-Wolfe line search may evaluate the loss a
few times); Adam does one gradient step. Stop and pause are polled between steps, like
the training loop; snapshots go to images/, and last.pt holds the latent and optimiser
state so a run can resume.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from cnn_tui.contract.events import CheckpointSaved, Diagnosis, Image, Log, StateChanged, StyleStep
from cnn_tui.contract.sinks import EventSink
from cnn_tui.contract.status import Severity
from cnn_tui.data.streams import CURRENT
from cnn_tui.style.images import save_png
from cnn_tui.style.levels import Level, level_at
from cnn_tui.style.losses import Losses, StyleObjective
from cnn_tui.train.checkpoint import save_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.device import memory_in_use
from cnn_tui.train.guard import Ending, Guard
from cnn_tui.train.wall_clock import WallClock

PIXEL_MARGIN = 1e-3  # the start image is kept this far inside (0, 1): the reflection's kink at 1 has no slope
RISE_TOLERANCE = 0.01  # a logged total more than 1% above the previous one counts as going backwards
CHECKPOINT_SECONDS = 30.0  # last.pt at a snapshot at most this often: L-BFGS's history makes it ~20 MB at 256 px


def to_latent(image: torch.Tensor) -> torch.Tensor:
    """A latent whose pixels are `image` (the reflection is the identity on [0, 1])."""
    return image.clamp(PIXEL_MARGIN, 1.0 - PIXEL_MARGIN).clone()


def to_pixels(latent: torch.Tensor) -> torch.Tensor:
    """The latent reflected into [0, 1]: slope +1 or -1 everywhere, so no pixel ever stalls."""
    return (torch.remainder(latent + 1.0, 2.0) - 1.0).abs()  # = 1 - |1 - (latent mod 2)|, one op fewer


@dataclass
class StyleOutcome(Ending):  # completed, interrupted, diverged, failed
    first: dict[str, float] = field(default_factory=dict)  # losses at step 0
    final: dict[str, float] = field(default_factory=dict)
    rises: int = 0  # logged steps whose total loss rose by more than RISE_TOLERANCE


def make_optimizer(latent: torch.Tensor, name: str, lr: float, history_size: int) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam([latent], lr=lr)
    # max_iter=1: one iteration per call, so every step can report and be stopped; the
    # tolerances are off because the recipe's step count decides when to finish.
    return torch.optim.LBFGS([latent], lr=lr, max_iter=1, max_eval=20, history_size=history_size,
                             tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")


class StyleTransfer:
    """The loop over `levels` (one for a plain run; coarse to fine for multi-scale). `build`
    makes the objective for a level's size; `image` is the first level's start image."""

    def __init__(self, recipe: Any, levels: list[Level], build: Callable[[int], StyleObjective], image: torch.Tensor,
                 device: torch.device, sink: EventSink, control: RunControl, run_dir: Path | None,
                 streams: int = CURRENT) -> None:
        self.recipe, self.streams = recipe, streams
        self.levels, self.build = levels, build
        self.total_steps = levels[-1].end
        self.level = 0
        self.objective = build(levels[0].size)
        self.latent = to_latent(image.detach()).requires_grad_(True)
        self.device = device
        self.sink = sink
        self.control = control
        self.run_dir = run_dir
        self.optimizer = self._new_optimizer()
        self.step = 0
        self.clock = WallClock()
        self.first: dict[str, float] = {}
        self.latest: dict[str, float] = {}
        self.last_good = self.image
        self.rises: list[float] = []  # relative size of each rise of the logged total
        self._evaluations: list[Losses] = []  # this step's (L-BFGS may evaluate several times)
        self.evaluations = 0  # loss evaluations in this segment, for s/evaluation in the summary
        self._checkpointed_at = time.time()
        self.guard = Guard(sink.emit, control)

    def _new_optimizer(self) -> torch.optim.Optimizer:
        opt = self.recipe.optimizer
        return make_optimizer(self.latent, opt.name, opt.lr, opt.history_size)

    def _enter_level(self, index: int, latent: torch.Tensor | None = None) -> None:
        """Switch to level `index`: its objective, the image resized to it (or `latent` as
        saved), and a fresh optimiser (L-BFGS's history belongs to the old size)."""
        self.level = index
        self.objective = self.build(self.levels[index].size)
        if latent is None:
            height, width = self.objective.content_shape
            with torch.no_grad():
                resized = F.interpolate(self.image, size=(height, width), mode="bilinear", align_corners=False)
            latent = to_latent(resized)
        self.latent = latent.detach().clone().to(self.device).requires_grad_(True)
        self.optimizer = self._new_optimizer()
        self.latest = {}  # losses at another size: no rise to compare across the switch
        self.sink.emit(Log(level="info", message=(
            f"level {index + 1}/{len(self.levels)}: {self.latent.shape[-1]}x{self.latent.shape[-2]} px "
            f"until step {self.levels[index].end}")))

    @property
    def image(self) -> torch.Tensor:
        """The current picture, pixels in [0, 1], detached."""
        with torch.no_grad():
            return to_pixels(self.latent)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {"kind": "style_transfer", "step": self.step, "level": self.level, "latent": self.latent.detach().cpu(),
                "image": self.image.cpu(), "optimizer": self.optimizer.state_dict(), "first": self.first,
                "elapsed": self.clock.seconds, "streams": self.streams}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "latent" in state:
            level = state.get("level", 0)
            if level != self.level:
                self._enter_level(level, state["latent"])
            with torch.no_grad():
                self.latent.copy_(state["latent"].to(self.device))
            self.optimizer.load_state_dict(state["optimizer"])
        else:  # written before the image was parametrised: its optimiser state is for pixels
            with torch.no_grad():
                self.latent.copy_(to_latent(state["image"].to(self.device)))
            self.sink.emit(Log(level="warning", message=(
                "this checkpoint predates the image's parametrisation: the image is kept, "
                "the optimiser's history starts afresh")))
        self.step, self.first, self.clock.earlier = state["step"], dict(state["first"]), state["elapsed"]
        self.last_good = self.image

    # ------------------------------------------------------------------ loop
    def run(self) -> StyleOutcome:
        self.clock.start_segment()
        ending = self.guard.run(self._loop, f"CUDA out of memory at {self.recipe.image_size} px; "
                                            "try a smaller image_size")
        outcome = StyleOutcome(ending.status, ending.reason, dict(self.first), dict(self.latest), len(self.rises))
        self._finish(outcome)
        return outcome

    def _closure(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        losses = self.objective(to_pixels(self.latent))
        losses.total.backward()  # type: ignore[no-untyped-call]  # torch's own stub is untyped
        self._evaluations.append(losses.detached())
        self.evaluations += 1
        return losses.total

    def _accepted(self) -> Losses:
        """The losses of the image the step ended on. L-BFGS's line search keeps its lowest
        evaluation (the start point if nothing was lower), which need not be the last one
        it made; Adam evaluates once, at the point the step started from."""
        if isinstance(self.optimizer, torch.optim.LBFGS):
            # sync point: one scalar per evaluation, already synced by L-BFGS's own float()
            totals = [losses.total.item() for losses in self._evaluations]
            if not all(math.isfinite(t) for t in totals):  # any NaN has already reached the image
                return self._evaluations[next(i for i, t in enumerate(totals) if not math.isfinite(t))]
            return self._evaluations[totals.index(min(totals))]
        return self._evaluations[-1]

    def _loop(self) -> Ending:
        every, snap_every, steps = self.recipe.log.every_steps, self.recipe.log.snapshot_every, self.total_steps
        if self.step == 0:
            with torch.no_grad():
                self.first = self.latest = self.objective(self.image).metrics()
            self.sink.emit(StyleStep(step=0, metrics=self.first))
            self._snapshot("init")
        tick_time, tick_steps = time.time(), 0
        while self.step < steps:
            if self.control.stop_requested:
                return self._interrupt()
            self.control.wait_while_paused(lambda s: self.sink.emit(StateChanged(state=s, step=self.step)))
            if self.control.stop_requested:
                return self._interrupt()
            if self.control.take_checkpoint_request():  # `cnn-tui checkpoint`: last.pt now
                self._save_checkpoint("requested")
            if level_at(self.levels, self.step) != self.level:
                self._enter_level(level_at(self.levels, self.step))
            self._evaluations.clear()
            self.optimizer.step(self._closure)  # type: ignore[arg-type]  # L-BFGS takes a tensor loss
            self.step += 1
            tick_steps += 1
            level_done = self.step == self.levels[self.level].end
            log_now = self.step % every == 0 or self.step == 1 or level_done
            if log_now:
                metrics = self._accepted().metrics()  # one device sync
                if not math.isfinite(metrics["loss/total"]):
                    return self._diverged()
                self._check_rise(metrics["loss/total"])
                self.latest = metrics
                self.last_good = self.image
                now = time.time()
                self.sink.emit(StyleStep(step=self.step, metrics=metrics,
                                         steps_per_sec=tick_steps / max(now - tick_time, 1e-9),
                                         memory_mb=memory_in_use(self.device) / 2**20))
                tick_time, tick_steps = now, 0
            if self.step % snap_every == 0 and self.step < steps:
                self._snapshot("snapshot")
                if time.time() - self._checkpointed_at >= CHECKPOINT_SECONDS:
                    self._save_checkpoint("last")
        self._snapshot("final")
        self._save_checkpoint("final")
        if self.rises:
            return Ending("completed", f"optimised the image for {self.step} steps, but the loss went "
                                       f"up {len(self.rises)} times (see the diagnosis)")
        return Ending("completed", f"optimised the image for {self.step} steps")

    def _check_rise(self, total: float) -> None:
        before = self.latest.get("loss/total")
        if before is not None and before > 0 and total > before * (1 + RISE_TOLERANCE):
            self.rises.append(total / before - 1)

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
        self._checkpointed_at = time.time()
        self.sink.emit(CheckpointSaved(path=str(path), step=self.step, epoch=0, reason=reason))

    def _interrupt(self) -> Ending:
        self._snapshot("final")
        return self.guard.interrupted(self._save_checkpoint)

    def _diverged(self) -> Ending:
        message = (f"the loss became NaN or Inf at step {self.step}: lower style_weight or optimizer.lr; "
                   "final.png is the last good image")
        nan = Diagnosis(code="nan", severity=Severity.ERROR, message=message, step=self.step, epoch=0)
        ending = self.guard.diverged(f"the loss became NaN or Inf at step {self.step}", [nan])
        self._snapshot("final", self.last_good)
        return ending

    def _finish(self, outcome: StyleOutcome) -> None:
        diagnoses = read_losses(outcome.first, outcome.final, self.step)
        if self.rises:
            diagnoses.insert(0, went_backwards(self.rises, self.recipe.optimizer.name, self.step))
        for diagnosis in diagnoses:
            self.sink.emit(diagnosis)


def went_backwards(rises: list[float], optimizer: str, step: int) -> Diagnosis:
    """The loss should only fall; when it did not, say so and what to change."""
    advice = ("lower optimizer.lr (e.g. --set optimizer.lr=0.01) or switch to L-BFGS"
              if optimizer == "adam" else "lower optimizer.lr, or try optimizer.name: adam")
    return Diagnosis(code="loss_rose", severity=Severity.WARNING, step=step, epoch=0, message=(
        f"The total loss went up {len(rises)} times between logged steps (at worst by {max(rises):.0%}): "
        f"the optimisation went backwards, so this image is not the best it reached; {advice}."))


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
            out.append(Diagnosis(code="style_fell", severity=Severity.INFO, step=step, epoch=0, message=(
                f"The style loss fell {drop:,.0f}x (from {style0:.3g} to {style1:.3g}): the image's feature "
                "correlations now resemble the style image's.")))
        else:
            out.append(Diagnosis(code="style_flat", severity=Severity.WARNING, step=step, epoch=0, message=(
                f"The style loss barely moved ({style0:.3g} to {style1:.3g}): raise style_weight, or "
                "run more steps.")))
    if style1 > 0 and content1 > 0:
        ratio = content1 / style1
        if ratio > 10:
            out.append(Diagnosis(code="content_dominates", severity=Severity.INFO, step=step, epoch=0, message=(
                f"Content loss is {ratio:.0f}x the style loss at the end: the content wins; raise "
                "style_weight for a stronger style.")))
        elif ratio < 0.1:
            out.append(Diagnosis(code="style_dominates", severity=Severity.INFO, step=step, epoch=0, message=(
                f"Style loss is {1 / ratio:.0f}x the content loss at the end: the style wins; raise "
                "content_weight to keep more of the content image.")))
    return out
