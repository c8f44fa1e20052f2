"""Which engine draws each chart on screen: plotext (the product's charting library) while the frame
can afford it, our braille canvas for the rest.

plotext builds one Python object per point: on a 2-core machine a chart costs ~3 ms plus ~10-17 us a
point, against ~0.5 ms plus ~3 us a point for the braille canvas (benchmark case 3 measures both, pane
by pane). So each redraw shares a budget of points among the charts shown, in the screen's order: a
chart goes to plotext while the budget lasts; one that would take the frame past it (eight layers'
gradients, eight compared runs) is drawn by braille. Both engines draw the same axes, ticks and legend.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnn_tui.ui.plot_data import PlotData

# At 160x48 the loss, accuracy and learning-rate charts hold ~600 points together: plotext for them,
# ~7-14 ms a frame on this 2-core machine, keeps the whole frame inside its 30 ms.
PLOTEXT_POINTS_PER_FRAME = 650


@dataclass(frozen=True)
class Choice:
    engine: str  # "plotext" or "braille"
    why: str


def points(data: PlotData) -> int:
    return sum(len(line.xs) for line in data.lines)


def choose_engines(charts: dict[str, int], budget: int = PLOTEXT_POINTS_PER_FRAME) -> dict[str, Choice]:
    """charts: name -> the points it draws, in the screen's order. plotext for each while the sum fits."""
    choices, used = {}, 0
    for name, count in charts.items():
        if used + count <= budget:
            used += count
            choices[name] = Choice("plotext", f"{count} points")
        else:
            choices[name] = Choice("braille", f"{count} points: plotext would draw {used + count} this frame, "
                                              f"over its {budget}")
    return choices
