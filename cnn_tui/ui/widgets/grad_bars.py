"""The latest gradient norm of every layer as a bar on a log scale, flagged in colour:
red for vanishing (far below the largest layer) or exploding, yellow for updates that
are large relative to the weights. Rules match the engine's diagnosis thresholds.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from cnn_tui.train.diagnose import EXPLODE_NORM, EXPLODE_UPDATE, VANISH_RATIO

LOG_LO, LOG_HI = -8.0, 3.0  # bar range: 1e-8 .. 1e3


def grad_bars_text(norms: dict[str, float], ratios: dict[str, float], width: int) -> Text:
    if not norms:
        return Text("waiting for gradient statistics...", style="dim")
    name_w = min(max(len(n) for n in norms), max(8, width // 4))
    bar_w = max(4, width - name_w - 22)
    top = max(norms.values())
    text = Text(no_wrap=True, overflow="crop")
    text.append(f"{'layer':<{name_w}} {'':<{bar_w}} {'‖grad‖':>8} {'update':>8}\n", style="dim")
    for name, norm in norms.items():
        ratio = ratios.get(name, 0.0)
        if not math.isfinite(norm):
            style, fill = "bold red", bar_w
        else:
            level = (math.log10(norm) if norm > 0 else LOG_LO) - LOG_LO
            fill = max(0, min(bar_w, round(bar_w * level / (LOG_HI - LOG_LO))))
            vanishing = top > 0 and norm < VANISH_RATIO * top
            exploding = norm > EXPLODE_NORM or ratio > EXPLODE_UPDATE
            style = "red" if (vanishing or exploding) else ("yellow" if ratio > 1e-2 else "green")
        label = name if len(name) <= name_w else "…" + name[-(name_w - 1):]
        text.append(f"{label:<{name_w}} ")
        text.append("█" * fill, style=style)
        text.append("·" * (bar_w - fill), style="bright_black")
        text.append(f" {norm:>8.1e} {ratio:>8.1e}\n")
    text.rstrip()
    return text


class GradBars(Static):
    _shown: tuple | None = None

    def show(self, norms: dict[str, float], ratios: dict[str, float]) -> None:
        """Redraw only for new statistics or a new width; re-layout only when the rows change."""
        width = self.size.width or 60
        key = (tuple(norms.items()), tuple(ratios.items()), width)
        if key == self._shown:
            return
        rows_changed = self._shown is None or len(norms) != self._rows
        self._shown, self._rows = key, len(norms)
        self.update(grad_bars_text(norms, ratios, width), layout=rows_changed)
