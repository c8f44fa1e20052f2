"""The model's layer table (output shape and parameters per layer, frozen layers marked)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from cnn_tui.ui.view import DrawsRun, RunView
from cnn_tui.ui.widgets.pane import Pane


def layer_table_text(layers: list[dict[str, Any]], total: int, trainable: int, width: int) -> Text:
    show_type = width >= 56
    fixed = 30 + (13 if show_type else 0)  # shape, params and " frozen"
    name_w = max(6, min(max((len(r["name"]) for r in layers), default=8), width - fixed))
    text = Text(no_wrap=True, overflow="crop")
    kind = f"{'type':<12} " if show_type else ""
    text.append(f"{'layer':<{name_w}} {kind}{'output':>12} {'params':>9}\n", style="bold")
    for r in layers:
        shape = "x".join(str(d) for d in r["shape"])
        frozen = r["params"] and not r.get("trainable", r["params"])
        name = r["name"] if len(r["name"]) <= name_w else "…" + r["name"][-(name_w - 1):]
        kind = f"{r['type'][:12]:<12} " if show_type else ""
        text.append(f"{name:<{name_w}} {kind}{shape:>12} {r['params']:>9,}",
                    style="dim" if frozen else "")
        text.append(" frozen\n" if frozen else "\n", style="blue")
    text.append(f"total {total:,} parameters, {trainable:,} trainable", style="bold")
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
