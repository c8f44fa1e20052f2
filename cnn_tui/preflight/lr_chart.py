"""The range test's curve as text: loss against lr on a log axis, the suggestion marked by a
vertical line (plotext, as `cnn-tui show` draws its charts: colours in a terminal, plain
characters in a pipe)."""

from __future__ import annotations

import plotext as plt

from cnn_tui.show.charts import MIN_HEIGHT


def lr_chart(lrs: list[float], losses: list[float], marks: dict[str, float], width: int, height: int,
             color: bool) -> str:
    """`marks`: label -> lr, each drawn as a vertical line and named in the title. Losses above twice
    the start (the divergence that ended the test) are left off, so the descent fills the chart."""
    if not lrs:
        return ""
    cap = 2 * max(losses[0], min(losses))  # the blow-up at the end would flatten the curve that matters
    kept = [(lr, loss) for lr, loss in zip(lrs, losses) if loss <= cap]
    lrs, losses = [lr for lr, _ in kept], [loss for _, loss in kept]
    figure = plt.figure  # plotext's one master figure: reset for each chart
    figure.clear()
    figure.plot_size(width, max(height, MIN_HEIGHT))
    figure.theme("default" if color else "colorless")
    figure.draw(figure.signal(list(lrs), list(losses), marker="hd").label("loss").lines())
    top, bottom = max(losses), min(losses)
    for (label, lr), glyph in zip(marks.items(), ("|", ":")):
        figure.draw(figure.signal([lr, lr], [bottom, top], marker=glyph).label(label).lines())
    figure.legend(active=False)
    figure.ruler("x").scale("log")
    names = ", ".join(f"{glyph} {label} {lr:.2g}" for (label, lr), glyph in zip(marks.items(), ("|", ":")))
    figure.title("loss vs lr (log)" + (f": {names}" if names else ""))
    figure.label("learning rate", "x")
    return str(figure.build().string(colorless=not color)).rstrip("\n")
