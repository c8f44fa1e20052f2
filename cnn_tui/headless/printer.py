"""Print events as an epoch table plus progress.

In a TTY the progress line redraws in place (at most 10 times a second). Anywhere else
(nohup, CI, a pipe) every line is appended and progress is printed at most every
`progress_seconds`: no carriage-return storms in log files.
"""

from __future__ import annotations

import sys
import time
from typing import IO

from cnn_tui.contract.confusion import matrix_lines, pair_lines
from cnn_tui.contract.events import (
    CheckpointSaved,
    Confusion,
    Diagnosis,
    EpochEnd,
    Event,
    Image,
    Log,
    RunFinished,
    RunStarted,
    StateChanged,
    Step,
    StyleStarted,
    StyleStep,
    TestScore,
)
from cnn_tui.contract.progress import eta_seconds, fraction_done
from cnn_tui.contract.status import Severity
from cnn_tui.contract.wording import format_duration, format_eta, format_test_score, global_batch, where_trained
from cnn_tui.record.fold import RunFold

HEADER = f"{'epoch':>7}  {'train loss':>10}  {'train acc':>9}  {'val loss':>9}  {'val acc':>8}  {'lr':>9}  {'time':>7}"


class HeadlessPrinter(RunFold):
    """The fold (record.fold) plus the lines it prints as events come."""

    def __init__(self, stream: IO[str] | None = None, tty: bool | None = None, quiet: bool = False,
                 progress_seconds: float = 30.0) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.quiet = quiet
        self.progress_seconds = progress_seconds
        RunFold.__init__(self)
        self.last_progress = 0.0
        self.progress_shown = False
        self.header_printed = False
        self.confusion: Confusion | None = None  # the best epoch's (the kept weights'), else the latest

    # ------------------------------------------------------------------ output
    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # terminal gone (SIGHUP) or closed: training must carry on regardless

    def line(self, text: str) -> None:
        if self.tty and self.progress_shown:
            text = "\r\x1b[2K" + text
            self.progress_shown = False
        self._write(text + "\n")

    # ------------------------------------------------------------------ events
    def emit(self, event: Event) -> None:
        self.fold(event)
        match event:
            case StyleStarted():
                self._on_style_started(event)
            case RunStarted():
                self._on_run_started(event)
            case Step():
                self._on_step(event)
            case StyleStep():
                self._on_style_step(event)
            case EpochEnd():
                self._on_epoch(event)
            case Confusion():
                self._on_confusion(event)
            case Diagnosis():
                self._on_diagnosis(event)
            case Log():
                self._on_log(event)
            case StateChanged():
                self._on_state(event)
            case CheckpointSaved():
                self._on_checkpoint(event)
            case Image():
                self._on_image(event)
            case TestScore():
                self._on_test(event)
            case RunFinished():
                self._on_finished(event)

    def close(self) -> None:
        pass

    def _on_style_started(self, e: StyleStarted) -> None:
        if self.quiet:
            return
        verb = f"resuming at step {e.start_step} of" if e.resumed else "optimising an image with"
        self.line(f"{e.recipe_name} ({e.kind}): {verb} {e.model_name} features ({e.total_params:,} "
                  f"params, frozen) on {where_trained(e)}; {e.total_steps} steps; run: {e.run_id}")

    def _on_run_started(self, e: RunStarted) -> None:
        if self.quiet:
            return
        verb = f"resuming at epoch {e.start_epoch + 1}, step {e.start_step}" if e.resumed else "training"
        self.line(f"{e.recipe_name} ({e.kind}): {verb} {e.model_name} ({e.total_params:,} params) "
                  f"on {where_trained(e)}")
        test = f" / {e.num_test:,} test" if e.num_test else ""
        self.line(f"data: {e.num_train:,} train / {e.num_val:,} val{test} images, {e.num_classes} classes; "
                  f"{e.epochs} epochs x {e.steps_per_epoch} steps of {global_batch(e.batch_size, e.world_size)}; "
                  f"run: {e.run_id}")

    def _progress_due(self) -> bool:
        """At most 10 redraws a second in a terminal; one line every `progress_seconds` elsewhere."""
        now = time.time()
        if self.quiet or self.started is None or now - self.last_progress < (0.1 if self.tty else
                                                                               self.progress_seconds):
            return False
        self.last_progress = now
        return True

    def _on_step(self, e: Step) -> None:
        s = self.started
        if not isinstance(s, RunStarted) or not self._progress_due():
            return
        eta = eta_seconds(s, e)
        bar_width = 20
        filled = int(bar_width * fraction_done(e.step - e.epoch * s.steps_per_epoch, s.steps_per_epoch))
        self._progress(f"epoch {e.epoch + 1}/{s.epochs} [{'#' * filled}{'.' * (bar_width - filled)}] "
                       f"step {e.step}/{s.total_steps}  loss {e.metrics.get('train/loss', float('nan')):.4f}  "
                       f"lr {e.metrics.get('lr', 0):.3g}  {e.images_per_sec:,.0f} img/s  ETA {format_eta(eta)}")

    def _on_style_step(self, e: StyleStep) -> None:
        s = self.started
        if s is None or not self._progress_due():
            return
        eta = eta_seconds(s, e)
        seconds_per_step = 1.0 / e.steps_per_sec if e.steps_per_sec > 0 else 0.0
        self._progress(f"step {e.step}/{s.total_steps}{loss_line(e.metrics).replace(';', ' ')}  "
                       f"{seconds_per_step:.3f} s/step  ETA {format_eta(eta)}")

    def _progress(self, text: str) -> None:
        if self.tty:
            self._write("\r\x1b[2K" + text)
            self.progress_shown = True
        else:
            self._write(text + "\n")

    def _on_epoch(self, e: EpochEnd) -> None:
        if self.quiet:
            return
        if not self.header_printed:
            self.line(HEADER)
            self.header_printed = True
        m = e.metrics
        epochs = self.started.epochs if isinstance(self.started, RunStarted) else e.epoch
        self.line(f"{e.epoch:>3}/{epochs:<3}  {m['train/loss']:>10.4f}  {m['train/acc']:>9.2%}  "
                  f"{m['val/loss']:>9.4f}  {m['val/acc']:>8.2%}  {m['lr']:>9.3g}  "
                  f"{format_duration(e.seconds):>7}{'  *' if e.is_best else ''}")

    def _on_confusion(self, e: Confusion) -> None:
        if self.confusion is None or e.epoch == self.best_epoch or self.confusion.epoch != self.best_epoch:
            self.confusion = e

    def _print_confusion(self) -> None:
        e = self.confusion
        if e is None or self.quiet:
            return
        kept = " (the kept weights)" if e.epoch == self.best_epoch else ""
        if e.matrix:
            self.line(f"validation confusion matrix, epoch {e.epoch}{kept}: rows true, columns predicted")
            lines = matrix_lines(e.classes, e.matrix, width=120)
        else:  # too many classes for a grid: the pairs the engine kept
            self.line(f"validation mistakes, epoch {e.epoch}{kept}:")
            lines = pair_lines(e.classes, [], pairs=[(t, p, c) for t, p, c in e.pairs],
                               support=[int(s["support"]) for s in e.per_class.values()])
        for text in lines:
            self.line("  " + text)
        f1 = ", ".join(f"{name} {score['f1']:.2f}" for name, score in
                       sorted(e.per_class.items(), key=lambda kv: kv[1]["f1"])[:8])
        self.line(f"  lowest F1: {f1}" if len(e.per_class) > 8 else f"  F1 per class: {f1}")

    def _on_diagnosis(self, e: Diagnosis) -> None:
        if not self.quiet or e.severity is Severity.ERROR:
            self.line(f"{'!' if e.severity is not Severity.INFO else '-'} {e.message}")

    def _on_log(self, e: Log) -> None:
        if not self.quiet or e.level == "error":
            self.line(f"- {e.message}")

    def _on_state(self, e: StateChanged) -> None:
        if not self.quiet:
            self.line(f"- {e.state}" + (f" at step {e.step}" if e.step else ""))

    def _on_checkpoint(self, e: CheckpointSaved) -> None:
        if e.reason in ("interrupt", "requested") and not self.quiet:
            self.line(f"- saved {e.path} at step {e.step}")

    def _on_image(self, e: Image) -> None:
        if e.tag == "final" and not self.quiet:
            self.line(f"- final image: {e.path}")

    def _on_finished(self, e: RunFinished) -> None:
        if isinstance(self.started, StyleStarted):
            self.line(f"{e.status}: {e.reason} ({format_duration(e.wall_seconds)} wall, "
                      f"{e.wall_seconds / max(e.step, 1):.3f} s/step){loss_line(e.final)}")
            return
        best = ""
        if e.best:
            nan = float("nan")
            best = f"; best val acc {e.best.get('val/acc', nan):.2%}, val loss {e.best.get('val/loss', nan):.4f}"
        if self.test is not None:
            best += f"; test acc {self.test.metrics['test/acc']:.2%} ({self.test.count:,} images)"
        self._print_confusion()
        self.line(f"{e.status}: {e.reason} ({format_duration(e.wall_seconds)} wall, {e.step} steps){best}")

    def _on_test(self, e: TestScore) -> None:
        if not self.quiet:
            self.line(f"- {format_test_score(e)}")


def loss_line(metrics: dict[str, float]) -> str:
    if not metrics:
        return ""
    parts = [f"{name} {metrics[f'loss/{name}']:.4g}" for name in ("total", "content", "style", "tv")
             if f"loss/{name}" in metrics]
    return "; " + ", ".join(parts)
