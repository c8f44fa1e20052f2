"""The learning-rate range test (Smith 2015; fastai's `lr_find`, Lightning's `Tuner.lr_find`).

The lr grows exponentially from `start` to `end` over `steps` optimizer steps on the recipe's
own batches; the smoothed loss is recorded at each lr, and the test stops early once the loss
passes 4x the best seen (it has diverged: larger rates only add noise). The weights are put back
afterwards, so the test leaves the model as it found it.

Two suggestions are computed, as fastai does:
- steepest: the lr where the smoothed loss falls fastest against log(lr);
- valley: half-way into the longest stretch over which the loss keeps falling.
Both read the curve smoothed by a centred mean (no lag). The valley is the one suggested: the
steepest point rests on one difference between neighbouring, noisy losses, so it jumps about
between runs (on scratch_cnn it lands on the recovery after a transient spike, near the
blow-up); the valley uses the shape of the whole descent (fastai's default since 2.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

SMOOTHING = 0.98  # fastai's: an exponential moving average over ~50 steps, bias-corrected
DIVERGED = 4.0  # stop once the smoothed loss is this many times the best
WINDOW_DECADES = 0.15  # the curve the suggestions read: a centred mean over +-0.15 decade of lr


@dataclass
class RangeResult:
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # smoothed, centred (no lag): what is drawn and read
    raw: list[float] = field(default_factory=list)
    stopped: str = ""  # why the test ended before its last step ("" when it ran them all)
    steepest: float | None = None
    valley: float | None = None
    diverged_at_once: bool = False
    picked: str = "valley"  # or "steepest" (lr-find --pick)

    @property
    def suggestion(self) -> float | None:
        if self.picked == "steepest" and self.steepest is not None:
            return self.steepest
        return self.valley if self.valley is not None else self.steepest


def lr_at(step: int, steps: int, start: float, end: float) -> float:
    """The lr of step `step` of `steps`: start * (end/start)^(step/(steps-1))."""
    return start * (end / start) ** (step / max(1, steps - 1))


def run_range_test(step: Callable[[float], float], steps: int, start: float, end: float,
                   on_point: Callable[[int, float, float, float], None] | None = None) -> RangeResult:
    """`step(lr)` takes one optimizer step at `lr` and returns its loss. Returns the curve and the
    suggestions; `on_point(i, lr, smoothed, raw)` is told each point as it is measured."""
    result = RangeResult()
    average, best = 0.0, math.inf
    for i in range(steps):
        lr = lr_at(i, steps, start, end)
        loss = step(lr)
        if not math.isfinite(loss):
            result.stopped = f"the loss became {loss} at lr {lr:.3g}"
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        smoothed = average / (1 - SMOOTHING ** (i + 1))
        result.lrs.append(lr)
        result.raw.append(loss)
        if on_point is not None:
            on_point(i, lr, smoothed, loss)
        best = min(best, smoothed)
        if i > 0 and smoothed > DIVERGED * best:
            result.stopped = f"the loss passed {DIVERGED:g}x its best at lr {lr:.3g}"
            break
    result.losses = centred(result.raw, _points_per_decade(steps, start, end))
    suggest(result)
    return result


def _points_per_decade(steps: int, start: float, end: float) -> float:
    return (steps - 1) / max(1e-9, math.log10(end / start))


def centred(raw: list[float], per_decade: float) -> list[float]:
    """A centred moving mean over +-WINDOW_DECADES of lr. The running average that decides when
    to stop lags ~50 steps (two decades at 25 steps a decade), which would place every feature of
    the curve at too high an lr; a centred window has no lag, once the test is over."""
    half = max(2, round(WINDOW_DECADES * per_decade))
    return [sum(raw[max(0, i - half):i + half + 1]) / len(raw[max(0, i - half):i + half + 1])
            for i in range(len(raw))]


def suggest(result: RangeResult) -> None:
    """Fill in `steepest` and `valley` (None where the curve is too short or never falls), and
    `diverged_at_once` when the loss never fell below its start before it blew up."""
    lrs, losses = trimmed(result.lrs, result.losses)
    if len(losses) < 3:
        result.diverged_at_once = bool(result.stopped)
        return
    falling = min(losses) < losses[0] * 0.99
    if not falling:
        result.diverged_at_once = bool(result.stopped)
        return
    result.steepest = steepest(lrs, losses)
    result.valley = valley(lrs, losses)


def trimmed(lrs: list[float], losses: list[float]) -> tuple[list[float], list[float]]:
    """fastai's window: the first tenth (the average still warming up) and the last few points
    (the blow-up) are left out of the suggestions."""
    head = len(losses) // 10
    tail = min(5, max(0, len(losses) - head - 3))
    end = len(losses) - tail
    return lrs[head:end], losses[head:end]


def steepest(lrs: list[float], losses: list[float]) -> float:
    slopes = [(losses[i + 1] - losses[i]) / (math.log(lrs[i + 1]) - math.log(lrs[i])) for i in range(len(lrs) - 1)]
    return lrs[slopes.index(min(slopes)) + 1]


def valley(lrs: list[float], losses: list[float]) -> float:
    """fastai's valley: the longest decreasing subsequence of the losses spans the valley; the
    suggestion is half-way into it (a third in, plus a sixth), where the descent is well under way
    and still far from the blow-up."""
    n = len(losses)
    run = [1] * n
    start = end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run[i] < run[j] + 1:
                run[i] = run[j] + 1
        if run[end] < run[i]:
            end = i
            start = max(0, end - run[end])
    third = (end - start) / 3
    return lrs[start + int(third) + int(third / 2)]


PEAK_SCHEDULES = ("onecycle",)  # the recipe's lr is a peak, reached after a warm-up from lr/25 and annealed


def pick_for(result: RangeResult, asked: str, schedule: str) -> str:
    """Which suggestion to report and write, and why (`lr-find --pick auto`, the default).

    The valley (fastai's) is a rate at which the loss still falls well from the start weights: a
    good lr to hold. A one-cycle schedule does not hold its lr: it warms up from lr/25 over 30% of
    the run, touches the lr once and anneals to near zero, so over the run it averages about half
    of it; Smith's one-cycle puts that peak at the top of the range where the loss still improves,
    not half-way into the descent. The steepest point (Lightning's suggestion) sits there, so for
    a one-cycle recipe `auto` picks it (never below the valley). Measured on scratch_cnn (SGD with
    momentum, one-cycle, 8 epochs): the valley (0.0116) reached 90% validation accuracy, 10x it
    (0.116, by the steepest point 0.098) 99%. Other schedules (constant, step, cosine, plateau)
    start at their lr and spend the first epochs near it: the valley.
    """
    if asked != "auto":
        result.picked = asked
        return f"{asked}, as --pick asks"
    if schedule in PEAK_SCHEDULES and result.steepest is not None and result.valley is not None \
            and result.steepest > result.valley:
        result.picked = "steepest"
        return (f"steepest descent: the recipe's {schedule} schedule only touches its lr at the peak, "
                "which belongs where the loss falls fastest, not half-way into the descent")
    result.picked = "valley"
    return "valley: half-way down the longest stretch where the loss keeps falling; a rate to hold"
