"""Activations over time, beside the health table: per layer a heat strip, gradient ticks across
(oldest left), the histogram's bins up (the layer's range, bottom bin = its low end), brighter =
more of the layer's outputs there. A layer that collapses to zero lights only its bottom row; one
that saturates (sigmoid/tanh) lights its ends; one whose outputs outgrow their range, its top row.
Hidden until a run's health events carry histograms (runs written before they existed have none)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from cnn_tui.ui.halfblock import UPPER_HALF
from cnn_tui.ui.spectrum import ActivationStrip
from cnn_tui.ui.view import DrawsRun, RunView

ROWS = 3  # cells per layer: 6 half-block pixels, each the largest of 4 of the 24 bins
LABEL = 10  # cells of the layer name / range column
RAMP = ((16, 16, 24), (40, 30, 110), (33, 145, 140), (94, 201, 98), (253, 231, 37))  # level 0 .. 99, viridis-like


def colour(level: int) -> str:
    """A level 0..99 as a colour on RAMP (0: the strip's dark background)."""
    at = max(0.0, min(1.0, level / 99)) * (len(RAMP) - 1)
    i = min(int(at), len(RAMP) - 2)
    f = at - i
    r, g, b = (round(a + (b - a) * f) for a, b in zip(RAMP[i], RAMP[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"


def strip_lines(name: str, strip: ActivationStrip, width: int) -> Text:
    """ROWS lines: the name on the first, the range's ends on the last and first, the strip beside."""
    cells = strip.fitted(width - LABEL - 1, 2 * ROWS)  # per column, 2*ROWS pixel levels, bottom first
    labels = [name if len(name) <= LABEL else "…" + name[-(LABEL - 1):]] + [""] * (ROWS - 1)
    labels[-1] = f"{strip.low:.3g}..{strip.high:.3g}"[:LABEL]
    text = Text()
    for row in range(ROWS):
        text.append(f"{labels[row]:<{LABEL}} ", style="dim" if row else "")
        upper, lower = 2 * (ROWS - row) - 1, 2 * (ROWS - row) - 2  # pixel indices, bottom first
        for column in cells:
            text.append(UPPER_HALF, style=f"{colour(column[upper])} on {colour(column[lower])}")
        text.append("\n")
    return text


def strips_text(spectra: dict[str, ActivationStrip], width: int) -> Text:
    text = Text("activations: ticks →, bins ↑\n", style="dim")
    for name, strip in spectra.items():
        text.append_text(strip_lines(name, strip, width))
    text.rstrip()
    return text


class ActivationStrips(Static, DrawsRun):
    when_shown: ClassVar[bool] = True
    _shown: tuple[tuple[int, ...], int] | None = None

    def draw(self, view: RunView) -> None:
        spectra = view.state.spectra
        holder = self.parent if self.parent is not None else self
        holder.display = bool(spectra)
        if not spectra:
            return
        width = self.size.width or 40
        key = (tuple(s.edits for s in spectra.values()), width)
        if key != self._shown:
            self._shown = key
            self.update(strips_text(spectra, width))
