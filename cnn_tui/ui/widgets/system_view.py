"""The System pane: what the machine does for the run (the training process's CPU and memory, the
GPU's utilisation, memory and temperature) and whether the run is input-bound (the share of the
time the loop waited for its next batch), with the recent samples as sparklines and a verdict in
words. Drawn from the engine's `system` events: the dashboard measures nothing itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text

from cnn_tui.contract.events import System
from cnn_tui.contract.readings import INPUT_BOUND_HELPS, input_bound, partly_input_bound
from cnn_tui.ui.view import RunView
from cnn_tui.ui.widgets.event_text import EventText

SPARKS = "▁▂▃▄▅▆▇█"
LABEL = 9  # columns of the row labels


def sparkline(values: Sequence[float], top: float, width: int) -> str:
    """The last `width` values as block characters, 0..top."""
    shown = values[-width:] if width > 0 else []
    return "".join(SPARKS[min(len(SPARKS) - 1, max(0, round(v / top * (len(SPARKS) - 1))))] for v in shown)


def verdict(e: System) -> tuple[str, str]:
    """(the reading in words, its style)."""
    if input_bound(e.data_wait):
        return f"input-bound: waiting for data {e.data_wait:.0%} of the time; {INPUT_BOUND_HELPS} would help", "red"
    if partly_input_bound(e.data_wait):
        return f"partly input-bound: waiting for data {e.data_wait:.0%} of the time", "yellow"
    if e.gpu_util is not None and e.gpu_util < 50:
        return (f"the data keeps up, but the GPU is busy only {e.gpu_util:.0f}% of the time: a larger "
                "train.batch_size (or a larger model) would use it better"), "yellow"
    return "compute-bound: the data keeps up", "green"


def system_text(latest: System | None, history: Sequence[System], width: int, world_size: int = 1) -> Text:
    if latest is None:
        return Text("waiting for the first system sample (every log.system_every_s)...", style="dim")
    spark_w = max(0, min(30, width - LABEL - 28))
    text = Text()
    text.append(f"{'process':<{LABEL}}", style="cyan")
    text.append(f"CPU {latest.cpu_percent:,.0f}% (of {latest.cpu_cores} cores) · {latest.rss_mb:,.0f} MB")
    text.append(f" · {latest.workers} loader worker{'s' if latest.workers != 1 else ''}\n" if latest.workers else "\n")
    text.append(f"{'data':<{LABEL}}", style="cyan")
    text.append(f"waits {latest.data_wait:>4.0%} of the time  ")
    text.append(sparkline([e.data_wait for e in history], 1.0, spark_w) + "\n", style=verdict(latest)[1])
    if latest.gpu_name is not None:
        text.append(f"{'GPU':<{LABEL}}", style="cyan")
        if latest.gpu_util is not None:
            text.append(f"busy  {latest.gpu_util:>3.0f}% of the time  ")
            text.append(sparkline([e.gpu_util or 0.0 for e in history], 100.0, spark_w), style="green")
        text.append(f"\n{'':<{LABEL}}{latest.gpu_name}")
        if latest.gpu_mem_mb is not None and latest.gpu_mem_total_mb:
            text.append(f" · memory {latest.gpu_mem_mb / 1024:,.1f} / {latest.gpu_mem_total_mb / 1024:,.1f} GB")
        if latest.gpu_temp_c is not None:
            text.append(f" · {latest.gpu_temp_c:.0f} °C")
        text.append("\n")
    words, style = verdict(latest)
    text.append(f"{'reading':<{LABEL}}", style="cyan")
    text.append(words, style=style)
    where = f" (rank 0 of {world_size} processes)" if world_size > 1 else ""
    text.append(f"\n{'':<{LABEL}}sampled at step {latest.step:,}{where}", style="dim")
    return text


class SystemView(EventText):
    paced: ClassVar[bool] = True
    history: Sequence[System] = ()
    world_size = 1

    def latest(self, view: RunView) -> System | None:
        self.history = view.state.system_history
        self.world_size = view.state.started.world_size if view.state.started is not None else 1
        return view.state.system

    def text(self, event: System | None, width: int) -> Text:
        return system_text(event, self.history, width, self.world_size)
