"""Past runs in the runs folder: open one (followed live if still running) or pick one to
overlay on the current run's curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from cnn_tui.rundir import EVENTS, read_summary
from cnn_tui.ui.messages import OpenRun


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
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, runs_dir: Path, pick: bool = False) -> None:
        super().__init__()
        self.runs_dir, self.pick = runs_dir, pick
        self.rows = list_runs(runs_dir)

    def compose(self) -> ComposeResult:
        what = "Pick a run to overlay" if self.pick else "Runs"
        yield Static(f"[b]{what}[/b] in {self.runs_dir}" if self.rows
                     else f"No runs in {self.runs_dir} yet.", id="runs-title")
        table: DataTable[str] = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("run", "status", "epochs", "best val acc", "started")
        for r in self.rows:
            table.add_row(r["name"], r["status"], r["epochs"], r["val_acc"], r["started"])
        yield table
        yield Footer()

    def action_choose(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            return
        path = self.rows[table.cursor_row]["path"]
        if self.pick:
            self.dismiss(path)
        else:
            self.post_message(OpenRun(path))

    def action_close(self) -> None:
        self.dismiss(None)
