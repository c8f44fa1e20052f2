"""The one-batch sanity check (`cnn-tui run RECIPE --overfit-batch`; Karpathy's "overfit one
batch", Lightning's `overfit_batches`): train on one fixed batch until its loss is near zero.

A model that cannot fit 32 images has a bug, and the numbers say which:
- frozen: nothing trains (no trainable parameter), or the gradients are zero;
- too small an lr: the loss falls, but slowly, and the weights barely move;
- labels that do not follow the images (shuffled, or the wrong column): the batch is only
  memorised, and other images of the training split stay at chance the whole time. A small net
  can memorise 32 true labels before it generalises at all, so "at chance" after one batch only
  raises the question; a second, short test (`label_check`) trains a few more batches for
  LABEL_STEPS steps and measures the held-out images again: learned beyond chance, the labels are
  cleared; still at chance, the warning says so (shuffled labels are memorised, never generalised:
  Zhang et al. 2017). It stays a warning (exit 0): scratch_cnn with its true labels, at its lr 0.05
  without the run's warm-up, also stayed at chance after those steps, so this cannot refuse yet;
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
    label_acc: float | None = None  # the probe images after label_check's more batches (None: not run)
    label_images: int = 0  # the images label_check trained on

    @property
    def chance_loss(self) -> float:
        return math.log(self.classes)


@dataclass
class Verdict:
    fits: bool
    cause: str  # "", "frozen", "zero_grads", "labels", "lr_too_small", "lr_too_large", "capacity"
    message: str


MIN_PROBE_IMAGES = 48  # below this the binomial margin is too wide to call other images "at chance"
LABEL_IMAGES = 256  # label_check: this many more training images (besides the batch and the probe) ...
LABEL_STEPS = 40  # ... trained this many steps, then the probe images measured again


def verdict(t: FitTrace) -> Verdict:
    chance_acc = 1 / t.classes
    # learned beyond the batch: other images' accuracy above chance by 2 standard deviations (binomial),
    # or their loss clearly below chance's (a net that only memorises cannot beat log(classes) on them)
    margin = 2 * math.sqrt(chance_acc * (1 - chance_acc) / max(1, t.probe_images))
    general = _general(t)
    steps = max(0, len(t.losses) - 1)  # a loss before each step, and one after the last
    final = t.losses[-1] if t.losses else math.nan
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
            if t.label_acc <= chance_acc + margin:
                # still a warning: on scratch_cnn with its true labels (SGD at lr 0.05, no warm-up) the
                # images stayed at 15% (chance 17%) after these steps too (docs/preflight.md)
                return Verdict(True, "labels", f"fits the batch (loss {final:.3g} in {steps} steps), but other "
                                               f"training images stayed at chance, {max(t.probe_acc):.0%} at best, "
                                               f"and still {t.label_acc:.0%} after {LABEL_STEPS} more steps on "
                                               f"{t.label_images} more images (chance {chance_acc:.0%}): if a full "
                                               "run stays at chance too, the labels do not follow the images "
                                               "(shuffled, or the wrong labels)")
            return Verdict(True, "", f"fits one batch: loss {start:.3g} -> {final:.3g} in {steps} steps; other "
                                     f"images, at chance after the batch alone, reached {t.label_acc:.0%} "
                                     f"(chance {chance_acc:.0%}) after {LABEL_STEPS} steps on more images: "
                                     "the model, the labels and the lr can learn")
        if judged and not general:
            # a warning, not a failure: a small net can memorise true labels in a few steps before it
            # generalises at all, so "at chance elsewhere" suggests, but does not prove, wrong labels
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
    if trace.losses[-1] <= NEAR_ZERO and trace.probe_images >= MIN_PROBE_IMAGES and not _general(trace):
        label_check(session, optimizer, criterion, probe, trace)
    return trace


def _general(t: FitTrace) -> bool:
    """Other images learned beyond chance (as `verdict` judges it)."""
    chance_acc = 1 / t.classes
    margin = 2 * math.sqrt(chance_acc * (1 - chance_acc) / max(1, t.probe_images))
    return bool(t.probe_acc) and (max(t.probe_acc) > chance_acc + margin or min(t.probe_loss) < 0.85 * t.chance_loss)


def label_check(session: Any, optimizer: Any, criterion: Any, probe: list, trace: FitTrace) -> None:
    """The batch fitted, the probe stayed at chance: train LABEL_STEPS steps on up to LABEL_IMAGES more
    training images (the first epoch's batches after the probe's), then measure the probe again."""
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
    for step in range(LABEL_STEPS):
        x, y = more[step % len(more)]
        session.step(optimizer, criterion, x, y)
    before = len(trace.probe_acc)
    _measure(session, criterion, probe, trace)
    trace.label_acc, trace.label_images = trace.probe_acc.pop(), count
    del trace.probe_loss[before:]


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
