"""Key reference, shown with `?`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Recipe picker[/b]
  ↑ ↓ / j k   move            enter   start the recipe
  /           filter          e       edit in $EDITOR (built-ins are copied to ./recipes first)
  r           past runs       q       quit
  a           the augmentation grid (cnn-tui augment: one image and what data.augment makes of it)
  i           layer table sized for 1,000 classes, as in the papers (again: the data's classes)

[b]Run screen[/b]
  p           pause / resume  s       stop (saves a checkpoint)
  tab         next pane       m       maximise the current pane
  + / -       curve smoothing (TensorBoard's debiased EMA)
  o           overlay another run (again: one more, up to 7; O clears them)
  v           curves / inside the model   l   next layer (weight distribution)
  [ / ]       zoom the current chart in / out (or the mouse wheel over it)
  , / .       pan left / right      c   value cursor (← → move it)
  y / Y       log y axis / y range without the first spike    x   x axis: steps, epochs, wall time
  esc         back            q       quit (asks first if a run is live)

[b]Runs list[/b]
  enter       open (follows it live if it is still running)
  space       select for comparison; enter then opens the selected runs together

[b]Reading the curves[/b]
  Loss and accuracy: faint = raw, cyan = smoothed training, magenta = validation.
  Validation loss rising while training loss falls is overfitting.
  Gradients: one line per layer on a log scale. Early layers far below the
  others are vanishing gradients; red bars flag vanishing or exploding layers.

[b]Reading the inside (v)[/b]
  Feature maps: bright = strong. Early layers keep the image's edges; deeper
  ones are coarser and respond to parts. Filters: the first layer's kernels;
  edge and colour detectors appear as it learns (noise = it has not yet).
  Confusion: rows are the true class; red cells are the mistakes it makes most.
  Health: a ReLU layer with most units dead, or a sigmoid/tanh layer stuck at
  its limits, no longer learns; the weight spread should change slowly.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP)
