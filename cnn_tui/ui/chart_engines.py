"""Which engine draws each chart on screen: plotext (the product's charting library) while the frame
can afford it, our braille canvas for the rest.

plotext takes its points one Python call at a time: on a 2-core machine a chart costs ~1.5 ms plus
~4 us a point (plotext_render puts them straight into plotext's kernel), against ~0.3 ms plus ~1 us
a point for the braille canvas (benchmark case 3 measures both, pane by pane). So each redraw shares
a budget of points among the charts shown, in the screen's order: a chart goes to plotext while the
budget lasts; one that would take the frame past it (eight layers' gradients, eight compared runs) is
drawn by braille. Both engines draw the same axes, ticks and legend.
CNN_TUI_CHARTS=plotext or =braille puts every chart on one engine (a fast machine; a slow one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cnn_tui.ui.plot_data import PlotData

# At 160x48 the loss, accuracy and learning-rate charts hold ~600 points together: plotext for them,
# ~9 ms a frame on this 2-core machine (the frame 1.24x the all-braille one): inside its 30 ms.
PLOTEXT_POINTS_PER_FRAME = 650
SETTING = "CNN_TUI_CHARTS"
SETTINGS = ("auto", "plotext", "braille")


@dataclass(frozen=True)
class Choice:
    engine: str  # "plotext" or "braille"
    why: str


def points(data: PlotData) -> int:
    return sum(len(line.xs) for line in data.lines)


def engine_setting() -> str:
    """auto (the default), plotext or braille, from the environment; ValueError names what is allowed."""
    value = os.environ.get(SETTING, "").strip().lower() or "auto"
    if value not in SETTINGS:
        raise ValueError(f"{SETTING}={value!r}: expected one of {', '.join(SETTINGS)}")
    return value


def choose_engines(charts: dict[str, int], budget: int = PLOTEXT_POINTS_PER_FRAME,
                   setting: str = "auto") -> dict[str, Choice]:
    """charts: name -> the points it draws, in the screen's order. plotext for each while the sum fits."""
    if setting != "auto":
        return {name: Choice(setting, f"{SETTING}={setting}") for name in charts}
    choices, used = {}, 0
    for name, count in charts.items():
        if used + count <= budget:
            used += count
            choices[name] = Choice("plotext", f"{count} points")
        else:
            choices[name] = Choice("braille", f"{count} points: plotext would draw {used + count} this frame, "
                                              f"over its {budget}")
    return choices
