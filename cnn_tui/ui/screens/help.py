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

[b]Run screen[/b]
  p           pause / resume  s       stop (saves a checkpoint)
  tab         next pane       m       maximise the current pane
  + / -       curve smoothing (TensorBoard's debiased EMA)
  o           overlay another run's validation curves
  esc         back            q       quit (asks first if a run is live)

[b]Runs list[/b]
  enter       open (follows it live if it is still running)

[b]Reading the curves[/b]
  Loss and accuracy: faint = raw, cyan = smoothed training, magenta = validation.
  Validation loss rising while training loss falls is overfitting.
  Gradients: one line per layer on a log scale. Early layers far below the
  others are vanishing gradients; red bars flag vanishing or exploding layers.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP)
