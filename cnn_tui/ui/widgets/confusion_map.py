"""The validation confusion matrix as a heat map: one cell per (true, predicted) pair, shaded by
the share of the true class's images that landed there (green on the diagonal, red off it), with
each class's recall and F1 at the end of its row. Too many classes for the pane (or more than
confusion.MAX_GRID_CLASSES): the most confused pairs instead."""

from __future__ import annotations

from rich.text import Text

from cnn_tui.contract.confusion import pair_lines
from cnn_tui.contract.events import Confusion
from cnn_tui.ui.view import RunView
from cnn_tui.ui.widgets.event_text import EventText

SHADES = 5  # steps of colour from faint to full


def confusion_text(report: Confusion | None, width: int) -> Text:
    if report is None:
        return Text("waiting for the first epoch to end...", style="dim")
    names, matrix = report.classes, report.matrix
    head = Text(f"epoch {report.epoch}: rows true, columns predicted\n", style="dim")
    n = len(names)
    digits = len(str(max((max(r) for r in matrix), default=0)))
    cell = max(digits, len(str(n - 1))) + 1
    name_w = min(max((len(c) for c in names), default=1), 14)
    numbered = f"{n - 1}"
    if not matrix or name_w + len(numbered) + 2 + n * cell + 14 > width:
        supports = [int(report.per_class[c]["support"]) for c in names]
        lines = pair_lines(names, [], pairs=[(t, p, c) for t, p, c in report.pairs], support=supports)
        return head + Text("\n".join(lines))
    text = head
    label_w = name_w + len(numbered) + 1
    text.append(" " * label_w + " " + "".join(f"{i:>{cell}}" for i in range(n)) + "  recall    F1\n", style="dim")
    for t, row in enumerate(matrix):
        row_total = sum(row) or 1
        text.append(f"{t:>{len(numbered)}} {names[t][:name_w]:<{name_w}} ")
        for p, count in enumerate(row):
            share = count / row_total
            text.append(f"{count:>{cell}}", style=_shade(share, t == p) if count else "bright_black")
        scores = report.per_class.get(names[t], {})
        text.append(f"  {scores.get('recall', 0.0):>6.1%}  {scores.get('f1', 0.0):>4.2f}\n")
    text.rstrip()
    return text


def _shade(share: float, diagonal: bool) -> str:
    level = min(SHADES, max(1, round(share * SHADES)))
    greens = ["#1f3d1f", "#2e6b2e", "#3d993d", "#4cc24c", "#5ee65e"]
    reds = ["#4d1f1f", "#7a2828", "#a83232", "#d43c3c", "#ff4a4a"]
    background = (greens if diagonal else reds)[level - 1]
    return f"bold white on {background}"


class ConfusionMap(EventText):
    def latest(self, view: RunView) -> Confusion | None:
        return view.state.confusion

    def text(self, event: Confusion | None, width: int) -> Text:
        return confusion_text(event, width)
