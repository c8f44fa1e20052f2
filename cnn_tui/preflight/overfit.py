"""The one-batch sanity check (`cnn-tui run RECIPE --overfit-batch`; Karpathy's "overfit one
batch", Lightning's `overfit_batches`): train on one fixed batch until its loss is near zero.

A model that cannot fit 32 images has a bug, and the numbers say which:
- frozen: nothing trains (no trainable parameter), or the gradients are zero;
- too small an lr: the loss falls, but slowly, and the weights barely move;
- labels that do not follow the images (shuffled, or the wrong column): the batch is only
  memorised, and other images of the training split stay at chance. A small net can memorise 32
  true labels before it generalises at all (and a high lr leaves it wildly overconfident), so "at
  chance" after the batch only raises the question; a second test (`label_check`) answers it:
  from the recipe's initial weights, at a tenth of its lr (where a run's warm-up or one-cycle
  schedule starts: scratch_cnn's full 0.05 from random weights stays at chance for a whole epoch),
  LABEL_STEPS steps on other training images (never the probe's) until the probe leaves chance.
  True labels leave it within tens of steps on every shipped scratch recipe; shuffled labels are
  memorised, never generalised (Zhang et al. 2017), so at chance after all those steps the check
  refuses;
- too large an lr: the loss is not finite, or ends above where it started.
The verdict is a pure function of those numbers (`verdict`), so each case is testable alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

NEAR_ZERO = 0.05  # mean cross-entropy on the batch: every image classified with p > 0.95
MAX_STEPS = 400
PROBE_EVERY = 5
FIT_IMAGES = 32  # the fixed batch: at most this many images (enough to show a bug, quick on a CPU)


@dataclass
class FitTrace:
    """What the check measured, for the verdict."""

    classes: int
    lr: float
    trainable: int
    losses: list[float] = field(default_factory=list)  # the fixed batch, before each step
    grad_norms: list[float] = field(default_factory=list)
    update_ratio: float = 0.0  # |w_end - w_start| / |w_start| over the trainable weights
    probe_acc: list[float] = field(default_factory=list)  # other training images, every PROBE_EVERY steps
    probe_loss: list[float] = field(default_factory=list)
    probe_images: int = 0
    label_acc: float | None = None  # the probe images' best accuracy in label_check (None: it did not run)
    label_images: int = 0  # the images label_check trained on
    label_steps: int = 0  # its steps, up to the probe leaving chance
    label_lr: float = 0.0
    label_best_loss: float | None = None

    @property
    def chance_loss(self) -> float:
        return math.log(self.classes)

    @property
    def final(self) -> float:
        """The batch's loss at the end: the lower of the last two measurements, each a fair sample in
        training mode. With dropout one draw can sit above NEAR_ZERO just after the one that ended the
        loop below it (alexnet_shapes: 0.0575 after a step at 0.025: once a "cannot fit" for a net
        that had fitted). Not finite if either is."""
        tail = self.losses[-2:]
        return math.nan if not tail or not all(map(math.isfinite, tail)) else min(tail)

    @property
    def margin(self) -> float:
        """Two binomial standard deviations of the probe's accuracy at chance."""
        chance = 1 / self.classes
        return 2 * math.sqrt(chance * (1 - chance) / max(1, self.probe_images))

    def beyond_chance(self, acc: float, loss: float) -> bool:
        """The probe learned: accuracy above chance by `margin`, or loss clearly below log(classes)
        (a net that only memorises cannot beat it on images it never saw)."""
        return acc > 1 / self.classes + self.margin or loss < 0.85 * self.chance_loss

    @property
    def label_general(self) -> bool:
        return self.label_acc is not None and self.label_best_loss is not None \
            and self.beyond_chance(self.label_acc, self.label_best_loss)


@dataclass
class Verdict:
    fits: bool
    cause: str  # "", "frozen", "zero_grads", "labels", "lr_too_small", "lr_too_large", "at_chance", "capacity"
    message: str


MIN_PROBE_IMAGES = 48  # below this the binomial margin is too wide to call other images "at chance"
LABEL_IMAGES = 6400  # label_check: at most this many other training images (besides the batch and the probe) ...
LABEL_STEPS = 150  # ... trained at most this many steps, the probe measured every LABEL_EVERY
LABEL_EVERY = 10
LABEL_LR_FACTOR = 0.1  # of the recipe's lr: where warm-up starts (one-cycle: lr / 25)


def verdict(t: FitTrace) -> Verdict:
    chance_acc = 1 / t.classes
    general = _general(t)
    steps = max(0, len(t.losses) - 1)  # a loss before each step, and one after the last
    final = t.final
    start = t.losses[0] if t.losses else math.nan
    if t.trainable == 0:
        return Verdict(False, "frozen", "cannot fit one batch: the net is frozen (0 trainable parameters); "
                                        "unfreeze some layers (phases[].unfreeze) or check requires_grad")
    if not math.isfinite(final) or (steps > 20 and final > start * 1.5):
        return Verdict(False, "lr_too_large", f"cannot fit one batch: the loss went from {start:.3g} to {final:.3g}"
                                              f" (diverged) at lr {t.lr:g}; lower the lr (try {t.lr / 10:g})")
    if t.grad_norms and max(t.grad_norms) < 1e-8:
        return Verdict(False, "zero_grads", "cannot fit one batch: the gradients are zero at every step, so no "
                                            "weight moves: a frozen net (frozen layers, a detached output, or units "
                                            "that are all dead)")
    # blaming the labels needs enough other images to tell "at chance" from "a little learned"
    judged = bool(t.probe_acc) and t.probe_images >= MIN_PROBE_IMAGES
    if final <= NEAR_ZERO:
        if judged and not general and t.label_acc is not None:
            if not t.label_general:
                return Verdict(False, "labels", f"fits the batch (loss {final:.3g} in {steps} steps), but only by "
                                                f"memorising it: other training images stayed at chance "
                                                f"({max(t.probe_acc):.0%} at best, chance {chance_acc:.0%}), and "
                                                f"again when the net was trained from its initial weights for "
                                                f"{t.label_steps} steps on {t.label_images:,} other images at lr "
                                                f"{t.label_lr:g} ({t.label_acc:.0%} at best): the labels do not "
                                                "follow the images (shuffled, or the wrong labels)")
            return Verdict(True, "", f"fits one batch: loss {start:.3g} -> {final:.3g} in {steps} steps; other "
                                     f"images, at chance after the batch alone, reached {t.label_acc:.0%} "
                                     f"(chance {chance_acc:.0%}) after {t.label_steps} steps on other images from "
                                     "the initial weights: the model, the labels and the lr can learn")
        if judged and not general:
            # no second test (too few other images): a warning, not a failure, since a small net can
            # memorise true labels in a few steps before it generalises at all
            return Verdict(True, "labels", f"fits the batch (loss {final:.3g} in {steps} steps), but other training "
                                           f"images stayed near chance ({max(t.probe_acc):.0%} at best, chance "
                                           f"{chance_acc:.0%}) while the batch was memorised: if a full run stays "
                                           "at chance too, the labels do not follow the images (shuffled, or the "
                                           "wrong labels)")
        return Verdict(True, "", f"fits one batch: loss {start:.3g} -> {final:.3g} in {steps} steps; the model, "
                                 "the labels and the lr can learn")
    if judged and not general and final < 0.5 * t.chance_loss:
        return Verdict(False, "labels", f"cannot fit one batch in {steps} steps, and what it learns of it is "
                                        f"memorised (loss {final:.3g}, chance {t.chance_loss:.3g}): other training "
                                        "images stay at chance "
                                        f"({max(t.probe_acc):.0%} at best, chance {chance_acc:.0%}): the labels do "
                                        "not follow the images (shuffled, or the wrong labels)")
    if final < start * 0.9 and t.update_ratio < 0.05:
        return Verdict(False, "lr_too_small", f"cannot fit one batch in {steps} steps: the loss falls but slowly "
                                              f"({start:.3g} -> {final:.3g}) and the weights moved only "
                                              f"{t.update_ratio:.1%}: the lr {t.lr:g} is too small (try "
                                              f"{t.lr * 10:g}, or `cnn-tui lr-find`)")
    if final >= start * 0.9:
        return Verdict(False, "lr_too_small", f"cannot fit one batch: the loss stays at {final:.3g} (from "
                                              f"{start:.3g}) though gradients flow; the lr {t.lr:g} is too small "
                                              "or the net is nearly frozen (try a larger lr, `cnn-tui lr-find`)")
    if abs(final - t.chance_loss) < 0.05 * t.chance_loss:
        return Verdict(False, "at_chance", f"cannot fit one batch in {steps} steps: the loss fell from {start:.3g} "
                                           f"to {final:.3g}, chance's log({t.classes}) = {t.chance_loss:.3g}, and "
                                           "stayed there: the net predicts the class frequencies whatever the image. "
                                           "Its units may have died (ReLUs after too large an lr: try a tenth, or "
                                           "batch norm) or the signal may vanish on the way (too small initial "
                                           "weights); the health table of a short run shows which layer")
    return Verdict(False, "capacity", f"cannot fit one batch in {steps} steps: the loss fell from {start:.3g} to "
                                      f"{final:.3g}, not near zero; the model may be too small or too regularised "
                                      "(dropout, weight decay) for it, or needs more steps")


def fit_one_batch(session: Any, max_steps: int = MAX_STEPS, say=print) -> FitTrace:
    """Train the recipe's model (phase 1, its optimizer at its lr, no schedule) on one fixed batch.
    Label smoothing is left out: it keeps the loss away from zero by design."""
    import torch

    phase = session.phase(0)
    x, y = next(session.batches())
    x, y = x[:FIT_IMAGES], y[:FIT_IMAGES]
    probe = _probe(session)
    classes = len(session.prepared.data.class_names)
    trace = FitTrace(classes=classes, lr=phase.lr, trainable=phase.trainable,
                     probe_images=sum(len(py) for _, py in probe))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = phase.optimizer
    if phase.trainable == 0 or optimizer is None:
        return trace
    initial = session.snapshot()
    weights = [p for p in session.model.parameters() if p.requires_grad]
    start = torch.cat([p.detach().flatten() for p in weights]).clone()
    for step in range(max_steps):
        if step % PROBE_EVERY == 0:
            _measure(session, criterion, probe, trace)
        loss, norm = session.step(optimizer, criterion, x, y)
        trace.losses.append(loss)
        trace.grad_norms.append(norm)
        if not math.isfinite(loss) or loss <= NEAR_ZERO * 0.5:
            break
    trace.losses.append(_loss(session, criterion, x, y))
    _measure(session, criterion, probe, trace)
    end = torch.cat([p.detach().flatten() for p in weights])
    trace.update_ratio = float((end - start).norm() / start.norm().clamp_min(1e-12))
    if trace.final <= NEAR_ZERO and trace.probe_images >= MIN_PROBE_IMAGES and not _general(trace):
        label_check(session, initial, criterion, probe, trace)
    return trace


def _general(t: FitTrace) -> bool:
    """Other images learned beyond chance while the batch was fitted."""
    return any(t.beyond_chance(a, loss) for a, loss in zip(t.probe_acc, t.probe_loss))


def label_check(session: Any, initial: dict[str, Any], criterion: Any, probe: list, trace: FitTrace) -> None:
    """The batch fitted, the probe stayed at chance: from the initial weights, with a fresh optimizer
    at LABEL_LR_FACTOR of the recipe's lr, train up to LABEL_STEPS steps on the first epoch's other
    batches (after the fixed one and the probe's, cycled; at most LABEL_IMAGES images), measuring
    the probe every LABEL_EVERY steps, and stop once it leaves chance."""
    more, count, skip = [], 0, 1 + len(probe)
    for index, (x, y) in enumerate(session.train.epoch(0)):
        if index < skip or not len(y):
            continue
        more.append((x, y))
        count += len(y)
        if count >= LABEL_IMAGES:
            break
    if count < MIN_PROBE_IMAGES:
        return  # too few images left to tell: the verdict keeps its warning
    fitted = session.snapshot()
    session.restore(initial)
    phase = session.phase(0)  # a fresh optimizer for the initial weights
    for group in phase.optimizer.param_groups:
        group["lr"] *= LABEL_LR_FACTOR
    trace.label_lr, trace.label_images = phase.lr * LABEL_LR_FACTOR, count
    before = len(trace.probe_acc)
    for step in range(1, LABEL_STEPS + 1):
        x, y = more[(step - 1) % len(more)]
        loss, _ = session.step(phase.optimizer, criterion, x, y)
        trace.label_steps = step
        if not math.isfinite(loss):
            break
        if step % LABEL_EVERY == 0:
            _measure(session, criterion, probe, trace)
            if trace.beyond_chance(trace.probe_acc[-1], trace.probe_loss[-1]):
                break
    measured_acc, measured_loss = trace.probe_acc[before:], trace.probe_loss[before:]
    del trace.probe_acc[before:], trace.probe_loss[before:]
    trace.label_acc = max(measured_acc, default=0.0)
    trace.label_best_loss = min(measured_loss, default=math.inf)
    session.restore(fitted)


def _probe(session: Any, images: int = 128) -> list:
    """Up to `images` other training images: the first epoch's batches after the fixed one (none
    when the split is one batch: then the labels are not checked)."""
    probe, count = [], 0
    for index, (x, y) in enumerate(session.train.epoch(0)):
        if index == 0 or not len(y):
            continue
        probe.append((x, y))
        count += len(y)
        if count >= images:
            break
    return probe


def _measure(session: Any, criterion: Any, batches: list, trace: FitTrace) -> None:
    """The probe images' accuracy and loss (evaluation mode: what the net has learned, not dropout's noise)."""
    import torch

    session.model.eval()
    correct, loss, count = 0, 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            logits = session.model(x)
            correct += int((logits.argmax(1) == y).sum())
            loss += float(criterion(logits, y)) * len(y)
            count += len(y)
    trace.probe_acc.append(correct / max(1, count))
    trace.probe_loss.append(loss / max(1, count))


def _loss(session: Any, criterion: Any, x: Any, y: Any) -> float:
    """The batch's loss after the last step, in training mode (as the steps measured it)."""
    import torch

    session.model.train()
    with torch.no_grad():
        return float(criterion(session.model(x), y))
