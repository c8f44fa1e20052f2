"""The runs compared, one row each in its curves' colour: status, best and final validation
numbers, test score, steps and wall time; then the recipe fields they differ in. Read from the
run directories (summary.json, recipe.yaml) and, for a live run, from its events so far."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import Static

from cnn_tui.ui.compared_runs import Compared, differences, label_runs, table_rows
from cnn_tui.ui.view import DrawsRun, RunView

MAX_FIELDS = 40
VALUE_WIDTH = 28
NOT_OVERLAID = "not overlaid: a style transfer has no loss, accuracy or learning rate per step to share"


# the columns a narrow pane drops first (the run's name and its best accuracy always stay)
DROPPED_FIRST = ["kind", "steps", "status", "wall", "best val loss", "test acc", "final val acc"]


def fit_columns(headers: list[str], rows: list[list[str]], width: int) -> tuple[list[str], list[list[str]]]:
    """The table without its least important columns until it fits `width` cells."""
    keep = list(range(len(headers)))

    def total() -> int:
        return sum(max(len(headers[i]), *(len(r[i]) for r in rows)) for i in keep) + 2 * (len(keep) - 1)

    for name in DROPPED_FIRST:
        if total() <= width or name not in headers:
            continue
        keep.remove(headers.index(name))
    return [headers[i] for i in keep], [[r[i] for i in keep] for r in rows]


def comparison_text(runs: list[Compared], width: int) -> Text:
    headers, rows = fit_columns(*table_rows(runs), width)
    text = Text(no_wrap=True, overflow="ellipsis")
    _table(text, headers, rows, [r.color for r in runs])
    apart = [run.label for run in runs if not run.overlaid]
    if apart:
        text.append(f"{', '.join(apart)}: {NOT_OVERLAID}\n", style="yellow")
    found = differences(runs)
    overlaid = [run for run in runs if run.overlaid]
    if len(overlaid) < 2:
        return text
    if not found:
        text.append("\nTheir recipes are the same (seed included).", style="dim")
        return text
    text.append(f"\nRecipe fields that differ ({len(found)}):\n", style="bold")
    shown = found[:MAX_FIELDS]
    _table(text, ["field", *(r.label for r in overlaid)], [[path, *map(_value, values)] for path, values in shown],
           [None] * len(shown), header_colors=[None, *(r.color for r in overlaid)])
    if len(found) > MAX_FIELDS:
        text.append(f"... and {len(found) - MAX_FIELDS} more\n", style="dim")
    return text


def _table(text: Text, headers: list[str], rows: list[list[str]], row_colors: list[str | None],
           header_colors: list[str | None] | None = None) -> None:
    """Columns as wide as their widest cell; a row's first cell in its colour (or a header's)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    for i, (header, width) in enumerate(zip(headers, widths)):
        color = header_colors[i] if header_colors else None
        text.append(("  " if i else "") + header.ljust(width), style=f"bold {color}" if color else "bold")
    text.append("\n")
    for row, color in zip(rows, row_colors):
        text.append(row[0].ljust(widths[0]), style=color or "cyan")
        text.append("  " + "  ".join(c.ljust(w) for c, w in zip(row[1:], widths[1:])).rstrip() + "\n")


def _value(value: Any) -> str:
    return "-" if value is None else str(value)[:VALUE_WIDTH]


class ComparisonTable(Static, DrawsRun):
    paced: ClassVar[bool] = True  # with the curves: it reads summaries from disk
    when_shown: ClassVar[bool] = True

    def draw(self, view: RunView) -> None:
        runs = [Compared(view.run_dir or Path("this run"), view.state), *view.pinned]
        label_runs(runs)
        self.update(comparison_text(runs, max(40, self.size.width or 120)))
