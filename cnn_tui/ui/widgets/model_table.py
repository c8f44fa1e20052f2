"""The model's layer table (shapes, receptive fields, parameters, MACs per layer; frozen layers marked)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from cnn_tui.contract.layer_columns import table_lines, totals_line
from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.pane import Pane


def layer_table_text(layers: list[dict[str, Any]], total: int, trainable: int, width: int) -> Text:
    """The table at `width` (columns dropped least important first, layer_columns.py); frozen rows dim."""
    lines, rows = table_lines(layers, max(width, 20))
    text = Text(no_wrap=True, overflow="crop")
    text.append(lines[0] + "\n", style="bold")
    for line, r in zip(lines[1:], rows):
        frozen = r["params"] and not r.get("trainable", r["params"])
        text.append(line, style="dim" if frozen else "")
        text.append(" frozen\n" if frozen else "\n", style="blue")
    text.append(totals_line(layers, total, trainable), style="bold")
    return text


class ModelTable(Static, DrawsRun):
    """The Model pane's table, kept current as fine-tuning unfreezes blocks."""

    _shown: tuple[Any, ...] | None = None

    def draw(self, view: RunView) -> None:
        state = view.state
        if state.started is None:
            return
        pane = next((a for a in self.ancestors if isinstance(a, Pane)), None)
        width = pane.content_size.width - 2 if pane is not None else 0  # less the scrollbar
        width = width if width > 10 else view.width
        trainable = sum(r["trainable"] for r in state.layers)
        key = (id(state.started), trainable, width)
        if key != self._shown:
            self._shown = key
            self.update(layer_table_text(state.layers, state.started.total_params, trainable, width))
