"""Activation and weight health per layer, from the latest gradient tick: the share of dead ReLU
units or saturated sigmoid/tanh outputs (flagged at the engine's diagnosis thresholds), and the
spread of the weights and gradients (5%, median, 95%)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text

from cnn_tui.contract.events import Health
from cnn_tui.contract.readings import DEAD_SHARE, SATURATED_SHARE
from cnn_tui.ui.view import RunView
from cnn_tui.ui.widgets.event_text import EventText

BAR = 8  # cells of the dead/saturated bar


def health_text(health: Health | None, width: int) -> Text:
    if health is None:
        return Text("waiting for activation statistics (every log.grad_every_steps)...", style="dim")
    layers = list(dict.fromkeys([*health.weights, *health.dead, *health.saturated]))  # model order first
    name_w = min(max((len(n) for n in layers), default=5), max(8, width - 60))
    low, mid, high = health.levels.index(0.05), health.levels.index(0.5), health.levels.index(0.95)
    text = Text(f"step {health.step}: per layer, the latest tick\n", style="dim")
    text.append(f"{'layer':<{name_w}}  {'dead/saturated':<{BAR + 6}}  {'weights 5% / median / 95%':<28}  "
                f"{'|grad| 95%':>10}\n", style="dim")
    for name in layers:
        label = name if len(name) <= name_w else "…" + name[-(name_w - 1):]
        text.append(f"{label:<{name_w}}  ")
        share, limit = (health.dead[name], DEAD_SHARE) if name in health.dead else (
            (health.saturated[name], SATURATED_SHARE) if name in health.saturated else (None, 1.0))
        if share is None:
            text.append(" " * (BAR + 5))
        else:
            fill = round(BAR * share)
            style = "red" if share >= limit else ("yellow" if share >= limit / 2 else "green")
            text.append("█" * fill, style=style)
            text.append("·" * (BAR - fill), style="bright_black")
            text.append(f"{share:>4.0%}{'!' if share >= limit else ' '}", style=style)
        weights = health.weights.get(name)
        cells = f"{weights[low]:>8.3g} {weights[mid]:>9.3g} {weights[high]:>9.3g}" if weights else ""
        text.append(f"  {cells:<28}")
        grads = health.grads.get(name)
        if grads:
            text.append(f"  {max(abs(grads[low]), abs(grads[high])):>10.2e}")
        text.append("\n")
    text.append(f"! at or above the diagnosis thresholds: {DEAD_SHARE:.0%} dead, {SATURATED_SHARE:.0%} saturated",
                style="dim")
    return text


class HealthTable(EventText):
    paced: ClassVar[bool] = True

    def latest(self, view: RunView) -> Health | None:
        return view.state.health

    def text(self, event: Health | None, width: int) -> Text:
        return health_text(event, width)
