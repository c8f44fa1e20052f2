"""What the run screen hands to each of its widgets: the folded run and the viewer's choices.

Each pane's widget draws itself from a RunView (it knows which chart, picture or text it is),
so the screen never reaches into its children by id to push their data: it only decides
when to draw (paced while training) and which panes are on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from cnn_tui.ui.compared_runs import Compared
from cnn_tui.ui.state import RunState


@dataclass(frozen=True)
class RunView:
    state: RunState
    smoothing: float  # TensorBoard's EMA weight, chosen with + and -
    width: int  # of the screen, in cells
    pinned: tuple[Compared, ...] = ()  # other runs drawn over the curves, each in its colour
    run_dir: Path | None = None  # where the run's images are, when known
    layer: str = ""  # the layer whose weight distribution the inside page draws
    x_axis: str = "step"  # what the curves' x axis counts: step, epoch or wall (seconds), x cycles it


class DrawsRun:
    """A widget that draws itself from a RunView.

    paced: redrawn at most once a second while a run is live, less often while it holds the CPU (ui/pace.py);
    when_shown: drawn only while its pane is on screen.
    """

    paced: ClassVar[bool] = False
    when_shown: ClassVar[bool] = False

    def draw(self, view: RunView) -> None:
        raise NotImplementedError
