"""The latest gradient norm of every layer as a bar on a log scale, flagged in colour:
red for vanishing (far below the largest layer) or exploding, yellow for updates that
are large relative to the weights. Rules match the engine's diagnosis thresholds.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import Static

from cnn_tui.contract.readings import EXPLODE_NORM, EXPLODE_UPDATE, VANISH_RATIO
from cnn_tui.ui.view import DrawsRun, RunView

LOG_LO, LOG_HI = -8.0, 3.0  # bar range: 1e-8 .. 1e3
FLAGS = {  # reading -> (glyph, colour)
    "healthy": (" ", "green"), "large update": ("!", "yellow"), "vanishing": ("▼", "red"),
    "exploding": ("▲", "red"), "broken": ("✖", "bold red"),
}


def grad_bars_text(norms: dict[str, float], ratios: dict[str, float], width: int) -> Text:
    if not norms:
        return Text("waiting for gradient statistics...", style="dim")
    name_w = min(max(len(n) for n in norms), max(8, width // 4))
    bar_w = max(4, width - name_w - 24)
    top = max((v for v in norms.values() if math.isfinite(v)), default=0.0)  # a NaN layer flags only itself
    text = Text(no_wrap=True, overflow="crop")
    text.append(f"{'layer':<{name_w}}   {'':<{bar_w}} {'‖grad‖':>8} {'update':>8}\n", style="dim")
    flagged = False
    for name, norm in norms.items():
        ratio = ratios.get(name, 0.0)
        fill, (flag, style) = bar_w, FLAGS["broken"]
        if math.isfinite(norm):
            level = (math.log10(norm) if norm > 0 else LOG_LO) - LOG_LO
            fill = max(0, min(bar_w, round(bar_w * level / (LOG_HI - LOG_LO))))
            flag, style = FLAGS[_reading(norm, ratio, top)]
        flagged = flagged or flag != " "
        label = name if len(name) <= name_w else "…" + name[-(name_w - 1):]
        text.append(f"{label:<{name_w}} ")
        text.append(f"{flag} ", style=style)  # the glyph says it where colour cannot (NO_COLOR, a log)
        text.append("█" * fill, style=style)
        text.append("·" * (bar_w - fill), style="bright_black")
        text.append(f" {norm:>8.1e} {ratio:>8.1e}\n")
    if flagged:
        text.append("▼ vanishing  ▲ exploding  ! large updates  ✖ NaN/Inf", style="dim")
    text.rstrip()
    return text


def _reading(norm: float, ratio: float, top: float) -> str:
    if top > 0 and norm < VANISH_RATIO * top:
        return "vanishing"
    if norm > EXPLODE_NORM or ratio > EXPLODE_UPDATE:
        return "exploding"
    return "large update" if ratio > 1e-2 else "healthy"


class GradBars(Static, DrawsRun):
    """The latest gradient statistics of every layer, as bars."""

    paced: ClassVar[bool] = True
    when_shown: ClassVar[bool] = True
    _shown: tuple[Any, ...] | None = None
    _rows = 0

    def draw(self, view: RunView) -> None:
        self.show(view.state.grad_latest, view.state.ratio_latest)

    def show(self, norms: dict[str, float], ratios: dict[str, float]) -> None:
        """Redraw only for new statistics or a new width; re-layout only when the rows change."""
        width = self.size.width or 60
        key = (tuple(norms.items()), tuple(ratios.items()), width)
        if key == self._shown:
            return
        text = grad_bars_text(norms, ratios, width)
        rows = text.plain.count("\n") + 1
        rows_changed = self._shown is None or rows != self._rows
        self._shown, self._rows = key, rows
        self.update(text, layout=rows_changed)
