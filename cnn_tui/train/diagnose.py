"""Plain-language readings of the curves. The engine computes them; every face shows them.

Each rule fires at most once per run (overfitting may be re-stated when it worsens is
not worth the noise). Thresholds are deliberately conservative: a false alarm teaches
the wrong lesson.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cnn_tui.contract.readings import (
    DEAD_SHARE,
    EXPLODE_NORM,
    EXPLODE_UPDATE,
    INPUT_BOUND_HELPS,
    SATURATED_SHARE,
    VANISH_RATIO,
    input_bound,
)

PERSIST = 3  # gradient ticks in a row before a gradient warning
SLOW_START_STEPS = 50  # a first epoch shorter than this says nothing about the start
OVERFIT_PATIENCE = 3  # epochs since the best validation loss
OVERFIT_RISE = 1.05  # validation loss at least 5% above its best
CONFIDENT_EPOCHS = 3  # epochs over which validation loss and accuracy both rose
CONFIDENT_ACC_RISE = 0.005  # half a point of accuracy
UNCONVERGED_FALL = 0.02  # the last epoch's validation loss at least 2% below every earlier one
# a first loss this close to chance (ln C, relative): every logit near 0, the mark of weights too
# small for the signal to cross the net (a normal init gives random logits, a loss well off ln C)
CHANCE_EXACT = 1e-3
UNDERFIT_SHARE = 0.5  # the last epoch's training loss still at least half of chance's (ln C)
WEAK_EARLY = 0.5  # first quarter of the layers' gradient norms below half of the last quarter's
CONTRAST_TICKS = 4  # gradient ticks the early/late contrast is taken over (the latest)


@dataclass
class Finding:
    code: str
    severity: str
    message: str


@dataclass
class Diagnoser:
    num_classes: int
    lr: float
    total_epochs: int | None = None  # the planned epochs, so the last one is known ("not converged")
    fired: set[str] = field(default_factory=set)
    epochs: list[dict[str, float]] = field(default_factory=list)
    first_loss: float | None = None
    vanish_streak: int = 0
    explode_streak: int = 0
    dead_streak: int = 0
    saturated_streak: int = 0
    starved_streak: int = 0
    # the latest gradient ticks' early/late contrast: mean norm of the first quarter of the weight
    # layers over that of the last quarter (a plain deep net's fades towards the input)
    grad_contrast: list[float] = field(default_factory=list)

    def _once(self, code: str, severity: str, message: str) -> list[Finding]:
        if code in self.fired:
            return []
        self.fired.add(code)
        return [Finding(code, severity, message)]

    # ---------------------------------------------------------------- per step
    def on_step_loss(self, loss: float, step: int, lr: float) -> list[Finding]:
        if not math.isfinite(loss):
            return self._once("nan", "error",
                              f"The loss became {loss} at step {step}: training diverged. Lower the "
                              f"learning rate (now {lr:.3g}), add gradient clipping (train.grad_clip), "
                              "or check that the inputs are normalised.")
        if self.first_loss is None:
            self.first_loss = loss
        return []

    # ---------------------------------------------------------------- per gradient tick
    def on_gradients(self, norms: dict[str, float], ratios: dict[str, float], step: int) -> list[Finding]:
        out: list[Finding] = []
        values = list(norms.values())
        if not values:
            return out
        if not all(math.isfinite(v) for v in values):
            bad = [k for k, v in norms.items() if not math.isfinite(v)]
            return self._once("nan", "error", f"Gradients became NaN/Inf at step {step} in "
                              f"{_names(bad)}: training diverged. Lower the learning rate or clip gradients.")
        self.grad_contrast = (self.grad_contrast + [_early_late(norms)])[-CONTRAST_TICKS:]
        top_layer = max(norms, key=lambda name: norms[name])
        top = norms[top_layer]
        vanishing = [k for k, v in norms.items() if top > 0 and v < VANISH_RATIO * top]
        self.vanish_streak = self.vanish_streak + 1 if vanishing else 0
        if self.vanish_streak >= PERSIST:
            out += self._once("vanishing_gradients", "warning",
                              f"Vanishing gradients in {_names(vanishing)}: their gradient is over "
                              f"{1 / VANISH_RATIO:,.0f}x smaller than in {top_layer}, so they barely "
                              "learn. Batch norm, ReLU instead of sigmoid/tanh, residual connections "
                              "or Kaiming init help.")
        exploding = [k for k, v in norms.items() if v > EXPLODE_NORM]
        exploding += [k for k, r in ratios.items() if r > EXPLODE_UPDATE and k not in exploding]
        self.explode_streak = self.explode_streak + 1 if exploding else 0
        if self.explode_streak >= PERSIST:
            worst = max(exploding, key=lambda k: ratios.get(k, 0.0))
            out += self._once("exploding_gradients", "warning",
                              f"Exploding gradients in {_names(exploding)}: updates change "
                              f"{worst}'s weights by {ratios.get(worst, 0.0):.0%} per step "
                              "(healthy is about 0.1%). Lower the learning rate or clip gradients.")
        return out

    # ---------------------------------------------------------------- per health tick
    def on_health(self, dead: dict[str, float], saturated: dict[str, float], step: int) -> list[Finding]:
        dying = {k: v for k, v in dead.items() if v >= DEAD_SHARE}
        self.dead_streak = self.dead_streak + 1 if dying else 0
        stuck = {k: v for k, v in saturated.items() if v >= SATURATED_SHARE}
        self.saturated_streak = self.saturated_streak + 1 if stuck else 0
        out: list[Finding] = []
        if self.dead_streak >= PERSIST:
            worst = max(dying, key=lambda k: dying[k])
            out += self._once("dead_relus", "warning",
                              f"Dead ReLUs in {_names(list(dying))}: {dying[worst]:.0%} of {worst}'s units "
                              "output zero for every image of a batch, so they get no gradient and stop "
                              "learning. A lower learning rate, Kaiming init, batch norm before the ReLU "
                              "or LeakyReLU help.")
        if self.saturated_streak >= PERSIST:
            worst = max(stuck, key=lambda k: stuck[k])
            out += self._once("saturated_activations", "warning",
                              f"Saturated activations after {_names(list(stuck))}: {stuck[worst]:.0%} of "
                              f"{worst}'s sigmoid/tanh outputs sit within 1% of their limits, where the "
                              "gradient is almost zero. Smaller initial weights (init: kaiming or xavier), "
                              "batch norm, a lower learning rate or ReLU help.")
        return out

    # ---------------------------------------------------------------- per system sample
    def on_system(self, data_wait: float, device: str, workers: int, step: int) -> list[Finding]:
        self.starved_streak = self.starved_streak + 1 if input_bound(data_wait) else 0
        if self.starved_streak < PERSIST:
            return []
        what = "the GPU" if device == "cuda" else "the model"
        return self._once("input_bound", "warning",
                          f"Input-bound: the loop waits for its next batch {data_wait:.0%} of the time, so {what} "
                          f"sits idle ({workers} data-loading worker(s)); {INPUT_BOUND_HELPS} would help.")

    # ---------------------------------------------------------------- per epoch
    def on_epoch(self, epoch: int, metrics: dict[str, float], step: int = 1_000) -> list[Finding]:
        self.epochs.append(dict(metrics))
        out: list[Finding] = []
        chance = math.log(self.num_classes) if self.num_classes > 1 else 1.0
        start = self.first_loss if self.first_loss is not None else chance
        train = [e.get("train/loss", math.nan) for e in self.epochs]
        n = len(self.epochs)
        if n == 1 and step >= SLOW_START_STEPS and train[0] > 0.9 * start and math.isfinite(train[0]):
            if abs(start - chance) <= CHANCE_EXACT * chance:
                out += self._once("slow_start", "info",
                                  f"Slow start from too-small initial weights: the first loss ({start:.4f}) was "
                                  f"exactly chance (ln {self.num_classes} = {chance:.4f}), so every output was "
                                  f"about 0, and after one epoch it is still {train[0]:.3f}. Signals and "
                                  "gradients shrink through each layer of small weights; an init scaled to "
                                  "the layer (init: kaiming or xavier, or a larger init_std) or batch norm "
                                  "starts at once.")
            else:
                out += self._once("slow_start", "info",
                                  f"Slow start: after one epoch the training loss ({train[0]:.3f}) is "
                                  f"still near where it began ({start:.3f}). If it stays flat, raise the "
                                  "learning rate or check the data.")
        acc = self.epochs[-1].get("train/acc", math.nan)
        if n >= 3 and train[-1] > 0.97 * start and acc < 1.5 / self.num_classes:
            out += self._once("no_learning", "error",
                              f"No learning: after {n} epochs the training loss ({train[-1]:.3f}) has "
                              f"not moved from {start:.3f} and accuracy is at chance. Try another "
                              "learning rate, check labels and normalisation, or reduce regularisation.")
        if n >= 2 and train[-1] > 1.5 * min(train) and train[-1] > train[-2] \
                and train[-1] - min(train) > 0.1 * start:  # a rise from 0.005 to 0.008 is noise
            out += self._once("diverging", "warning",
                              f"The training loss is rising ({min(train):.3f} -> {train[-1]:.3f}): "
                              "the learning rate is probably too high.")
        out += self._overfitting()
        out += self._confident_mistakes()
        if epoch == self.total_epochs:
            out += self._not_converged()
            out += self._underfitting(chance)
        return out

    def _underfitting(self, chance: float) -> list[Finding]:
        """At the last planned epoch the net still cannot fit its training data: the degradation of
        a deep plain net (He et al.'s Fig. 1 is about training error), not overfitting."""
        last = self.epochs[-1]
        train, acc = last.get("train/loss", math.nan), last.get("train/acc", math.nan)
        if len(self.epochs) < 3 or not math.isfinite(train) or train < UNDERFIT_SHARE * chance:
            return []
        contrast = sorted(self.grad_contrast)[len(self.grad_contrast) // 2] if self.grad_contrast else math.nan
        fit = f" and training accuracy {acc:.1%}" if math.isfinite(acc) else ""
        if 0 < contrast < WEAK_EARLY:
            why = (f" Its first layers' gradients are {1 / contrast:.1f}x weaker than its last layers' (the "
                   "gradient pane): the error signal fades on its way down the stacked layers. A deep net "
                   "without shortcuts trains worse than a shallower one (the degradation problem): residual "
                   "connections (shortcut: identity) or fewer layers help, and so do more epochs.")
        else:
            why = " More epochs, another learning rate, a larger model or less regularisation help."
        return self._once("underfitting", "warning",
                          f"Underfitting: after {len(self.epochs)} epochs the training loss is still {train:.3f} "
                          f"(guessing scores ln {self.num_classes} = {chance:.3f}){fit}. The net cannot fit even "
                          "its training data, so "
                          f"this is not overfitting.{why}")

    def _not_converged(self) -> list[Finding]:
        """At the last planned epoch, validation loss still falling to a new best: train longer."""
        val = [e.get("val/loss", math.nan) for e in self.epochs]
        if len(val) < 3 or not all(math.isfinite(v) for v in val[-3:]):
            return []
        earlier = min(v for v in val[:-1] if math.isfinite(v))
        if not (val[-1] < earlier * (1 - UNCONVERGED_FALL) and val[-2] < val[-3]):
            return []
        acc = [e.get("val/acc", math.nan) for e in self.epochs[-2:]]
        rising = f" and accuracy {acc[0]:.1%} -> {acc[1]:.1%}" if all(math.isfinite(a) for a in acc) else ""
        return self._once("not_converged", "info",
                          f"Not converged: validation loss was still falling at the last epoch ({val[-2]:.3f} "
                          f"-> {val[-1]:.3f}{rising}), its best so far. Train longer (more train.epochs, or "
                          "resume from the checkpoint) before reading the final numbers.")

    def _confident_mistakes(self) -> list[Finding]:
        """The course's warning: validation accuracy still rising while validation loss rises."""
        recent = self.epochs[-CONFIDENT_EPOCHS:]
        if len(recent) < CONFIDENT_EPOCHS:
            return []
        loss = [e.get("val/loss", math.nan) for e in recent]
        acc = [e.get("val/acc", math.nan) for e in recent]
        if not all(math.isfinite(v) for v in loss + acc):
            return []
        loss_rising = all(b > a for a, b in zip(loss, loss[1:])) and loss[-1] > loss[0] * OVERFIT_RISE
        if not (loss_rising and acc[-1] >= acc[0] + CONFIDENT_ACC_RISE):
            return []
        first = len(self.epochs) - CONFIDENT_EPOCHS + 1
        return self._once("confident_mistakes", "info",
                          f"Validation accuracy still rises ({acc[0]:.1%} -> {acc[-1]:.1%}) while validation "
                          f"loss rises ({loss[0]:.3f} -> {loss[-1]:.3f}) since epoch {first}: the model grows "
                          "more confident on its mistakes, the first sign of overfitting. Look at the worst "
                          "mistakes pane; early stopping on val/loss or more regularisation would help.")

    def _overfitting(self) -> list[Finding]:
        val = [e.get("val/loss", math.nan) for e in self.epochs]
        train = [e.get("train/loss", math.nan) for e in self.epochs]
        if len(val) < 3 or not all(math.isfinite(v) for v in val):
            return []
        best = min(range(len(val)), key=val.__getitem__)
        rising = len(val) - 1 - best >= OVERFIT_PATIENCE and val[-1] > val[best] * OVERFIT_RISE
        train_falling = train[-1] < 0.9 * train[best]
        if not (rising and train_falling):
            return []
        return self._once("overfitting", "warning",
                          f"Overfitting since epoch {best + 1}: validation loss rose from "
                          f"{val[best]:.3f} to {val[-1]:.3f} while training loss fell from "
                          f"{train[best]:.3f} to {train[-1]:.3f}. More data, augmentation, dropout, "
                          "weight decay or early stopping would help.")

    def state_dict(self) -> dict[str, Any]:
        return {"fired": sorted(self.fired), "epochs": self.epochs, "first_loss": self.first_loss,
                "vanish_streak": self.vanish_streak, "explode_streak": self.explode_streak,
                "dead_streak": self.dead_streak, "saturated_streak": self.saturated_streak,
                "starved_streak": self.starved_streak, "grad_contrast": self.grad_contrast}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.fired = set(state["fired"])
        self.epochs = [dict(e) for e in state["epochs"]]
        self.first_loss = state["first_loss"]
        self.vanish_streak = state["vanish_streak"]
        self.explode_streak = state["explode_streak"]
        self.dead_streak = state.get("dead_streak", 0)  # checkpoints from before activation health
        self.saturated_streak = state.get("saturated_streak", 0)
        self.starved_streak = state.get("starved_streak", 0)  # checkpoints from before the system samples
        self.grad_contrast = list(state.get("grad_contrast", []))  # checkpoints from before the underfitting rule


def _names(layers: list[str]) -> str:
    return ", ".join(layers[:4]) + (f" and {len(layers) - 4} more" if len(layers) > 4 else "")


def _early_late(norms: dict[str, float]) -> float:
    """Mean gradient norm of the first quarter of the weight layers (norm layers left out) over the
    last quarter's, input to output; NaN where it cannot be told (fewer than 4 layers, or zeros)."""
    layers = [v for k, v in norms.items() if not any(t in k.rsplit(".", 1)[-1] for t in ("bn", "norm"))]
    quarter = len(layers) // 4
    if quarter < 1:
        return math.nan
    late = sum(layers[-quarter:]) / quarter
    return sum(layers[:quarter]) / quarter / late if late > 0 else math.nan
