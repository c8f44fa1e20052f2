"""The two lines at the top of the run screen: what runs where, and how far along it is."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from cnn_tui.contract.events import RunStarted
from cnn_tui.contract.progress import fraction_done
from cnn_tui.contract.wording import format_duration, where_trained
from cnn_tui.ui.state import RunState
from cnn_tui.ui.view import DrawsRun, RunView

STATUS_STYLES = {
    "waiting": "dim", "running": "bold green", "paused": "bold yellow", "stopping": "bold yellow",
    "completed": "bold green", "early_stopped": "bold green", "interrupted": "bold yellow",
    "diverged": "bold red", "failed": "bold red", "crashed": "bold red", "lost": "bold red",
}


def status_text(state: RunState, smoothing: float, width: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {state.status.upper().replace('_', ' ')} ", style=f"reverse {STATUS_STYLES.get(state.status, '')}")
    if state.notice:  # first: at 80 columns the rest of the line is cut
        text.append(f" {state.notice}", style="bold red")
    resume = ""
    if state.status == "lost" and state.lost_line:  # what happened on line 1, how to go on at the start of line 2
        what, _, resume = state.lost_line.removeprefix("lost: ").partition("; resume with: ")
        text.append(f" {what}", style="bold red")
    s = state.started
    if s is None:
        text.append("  starting the training process...")
        return text
    text.append(f" {s.recipe_name} · {s.model_name} {s.total_params:,} params · {where_trained(s)}")
    if state.memory_mb:
        text.append(f" · {state.memory_mb:,.0f} MB")
    text.append("\n")
    if resume:
        text.append(f" resume with: {resume} ·", style="bold")
    if not isinstance(s, RunStarted):
        return _style_progress(text, state, smoothing, width)
    epochs = s.epochs
    shown_epoch = min(state.epoch + (1 if state.live else 0), epochs) if state.live else state.epoch
    text.append(f" epoch {shown_epoch}/{epochs} ")
    _progress_bar(text, state, width)
    if state.test is not None:  # the number that counts comes first: at 80 columns the rest is cut
        text.append(f" · test acc {state.test.metrics['test/acc']:.2%}", style="bold")
    if state.images_per_sec and state.live:
        text.append(f" · {state.images_per_sec:,.0f} img/s")
    eta = state.eta_seconds
    if eta is not None:
        text.append(f" · ETA {format_duration(eta)}")
    if state.lr is not None:
        text.append(f" · lr {state.lr:.3g}")
    best = state.best_metrics
    if best is not None:
        text.append(f" · best val acc {best.get('val/acc', 0):.2%} @{state.best_epoch}")
    text.append(f" · smoothing {smoothing:.2f}", style="dim")
    return text


def _progress_bar(text: Text, state: RunState, width: int) -> None:
    fraction = fraction_done(state.step, state.total_steps)
    bar_w = max(6, min(24, width // 8))
    filled = int(bar_w * fraction)
    text.append("━" * filled, style="green")
    text.append("─" * (bar_w - filled), style="bright_black")
    text.append(f" step {state.step}/{state.total_steps} ({fraction:.0%})")


def _style_progress(text: Text, state: RunState, smoothing: float, width: int) -> Text:
    """Style transfer has steps, not epochs; its speed is seconds per step."""
    text.append(" ")
    _progress_bar(text, state, width)
    if state.steps_per_sec and state.live:
        text.append(f" · {1 / state.steps_per_sec:.3f} s/step")
    eta = state.eta_seconds
    if eta is not None:
        text.append(f" · ETA {format_duration(eta)}")
    series, first = state.series.get("loss/style"), state.first_metrics.get("loss/style")
    if series is not None and series.last and first:
        text.append(f" · style loss fell {first / series.last:,.0f}x")
    text.append(f" · smoothing {smoothing:.2f}", style="dim")
    return text


class StatusBar(Static, DrawsRun):
    """Two fixed lines: what runs where, and how far along it is."""

    _shown: Text | None = None

    def draw(self, view: RunView) -> None:
        text = status_text(view.state, view.smoothing, view.width)
        if text != self._shown:  # the same lines (a key, a pause): nothing to repaint or send
            self._shown = text
            self.update(text, layout=False)  # fixed height
