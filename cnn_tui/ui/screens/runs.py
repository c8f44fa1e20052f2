"""Past runs in the runs folder: open one (followed live if still running), select several
with space and open them compared, or pick one to overlay on the current run's curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from cnn_tui.rundir import EVENTS, read_summary
from cnn_tui.ui.compare import MAX_RUNS
from cnn_tui.ui.messages import OpenRun, OpenRuns


def list_runs(runs_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if not runs_dir.is_dir():
        return rows
    for run in sorted(runs_dir.iterdir(), key=lambda p: p.name, reverse=True):
        if not (run / EVENTS).is_file():
            continue
        summary = read_summary(run) or {}
        best = summary.get("best") or {}
        rows.append({
            "path": run,
            "name": run.name,
            "status": summary.get("status", "running?"),
            "epochs": f"{summary.get('epochs_completed', '?')}/{summary.get('epochs_planned', '?')}",
            "val_acc": f"{best['val/acc']:.2%}" if "val/acc" in best else "",
            "started": str(summary.get("started_at", ""))[:16].replace("T", " "),
        })
    return rows


class RunsScreen(Screen[Path | None]):
    BINDINGS = [
        Binding("enter", "choose", "Open", priority=True),
        Binding("space", "select", "Select to compare"),
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, runs_dir: Path, pick: bool = False) -> None:
        super().__init__()
        self.runs_dir, self.pick = runs_dir, pick
        self.rows = list_runs(runs_dir)
        self.selected: list[Path] = []  # in the order chosen: the first is the one the others overlay

    def compose(self) -> ComposeResult:
        what = "Pick a run to overlay" if self.pick else "Runs"
        yield Static(f"[b]{what}[/b] in {self.runs_dir}" if self.rows
                     else f"No runs in {self.runs_dir} yet.", id="runs-title")
        table: DataTable[str] = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(" ", "run", "status", "epochs", "best val acc", "started")
        for r in self.rows:
            table.add_row(" ", r["name"], r["status"], r["epochs"], r["val_acc"], r["started"], key=str(r["path"]))
        yield table
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "select" and self.pick)

    def action_select(self) -> None:
        """Mark a run for comparison (its order number shows); again to unmark."""
        table = self.query_one(DataTable)
        if not self.rows or self.pick:
            return
        path = self.rows[table.cursor_row]["path"]
        if path in self.selected:
            self.selected.remove(path)
        elif len(self.selected) >= MAX_RUNS:
            self.notify(f"At most {MAX_RUNS} runs are compared at once.", severity="warning")
            return
        else:
            self.selected.append(path)
        for r in self.rows:
            mark = str(self.selected.index(r["path"]) + 1) if r["path"] in self.selected else " "
            table.update_cell(str(r["path"]), table.ordered_columns[0].key, mark)
        title = self.query_one("#runs-title", Static)
        title.update(f"[b]Runs[/b] in {self.runs_dir}" + (f": {len(self.selected)} selected, enter compares "
                                                         "them (the first is the one the others overlay)"
                                                         if self.selected else ""))
        table.action_cursor_down()

    def action_choose(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            return
        path = self.rows[table.cursor_row]["path"]
        if self.pick:
            self.dismiss(path)
        elif len(self.selected) > 1:
            self.post_message(OpenRuns(list(self.selected)))
        else:
            self.post_message(OpenRun(self.selected[0] if self.selected else path))

    def action_close(self) -> None:
        self.dismiss(None)
