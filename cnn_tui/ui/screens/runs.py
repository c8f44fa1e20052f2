"""The runs in the runs folder, a returning user's home: live runs first with their progress
(running, paused), then the others, newest first; lost runs marked. `enter` attaches to one with
full control (pause, resume, stop through its folder), space selects several to compare, and in
pick mode one is chosen to overlay on the current run's curves. The list refreshes itself.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from cnn_tui.ui.compared_runs import MAX_RUNS
from cnn_tui.ui.messages import OpenRun, OpenRuns
from cnn_tui.ui.run_rows import RunRow, list_runs
from cnn_tui.ui.widgets.footer import Footer

REFRESH_SECONDS = 2.0  # live runs' progress and a run just lost show within this
STATE_STYLES = {"running": "bold green", "paused": "bold yellow", "starting": "dim", "lost": "bold red",
                "completed": "green", "early_stopped": "green", "interrupted": "yellow", "diverged": "red",
                "failed": "red"}


class RunsScreen(Screen[Path | None]):
    BINDINGS = [
        Binding("enter", "choose", "Open", priority=True),
        Binding("space", "select", "Select to compare"),
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, runs_dir: Path, pick: bool = False) -> None:
        super().__init__()
        self.runs_dir, self.pick = runs_dir, pick
        self.rows: list[RunRow] = list_runs(runs_dir)
        self.selected: list[Path] = []  # in the order chosen: the first is the one the others overlay

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="runs-title")
        table: DataTable[str | Text] = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(" ", "run", "state", "progress", "best val acc", "last written")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self._fill()
        self.set_interval(REFRESH_SECONDS, self.refresh_rows)

    def _title(self) -> str:
        if not self.rows:
            return f"No runs in {self.runs_dir} yet."
        what = "Pick a run to overlay" if self.pick else "Runs"
        live = sum(r.live for r in self.rows)
        title = f"[b]{what}[/b] in {self.runs_dir}" + (f": {live} live" if live else "")
        if self.selected:
            title += (f": {len(self.selected)} selected, enter compares them (the first is the one the "
                      "others overlay)")
        elif live and not self.pick:
            title += " · enter attaches: p pauses, s stops"
        return title

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        keep = self.rows[table.cursor_row].path if self.rows and 0 <= table.cursor_row < len(self.rows) else None
        table.clear()
        for r in self.rows:
            mark = str(self.selected.index(r.path) + 1) if r.path in self.selected else " "
            state = Text(r.state.replace("_", " "), style=STATE_STYLES.get(r.state, ""))
            table.add_row(mark, r.name, state, r.progress, r.val_acc, r.last, key=str(r.path))
        if keep is not None:
            table.move_cursor(row=next((i for i, r in enumerate(self.rows) if r.path == keep), 0))
        self.query_one("#runs-title", Static).update(self._title())

    def refresh_rows(self) -> None:
        """Progress moves, runs end or are lost, new ones appear: the list follows, the cursor stays."""
        self.rows = list_runs(self.runs_dir)
        self._fill()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "select" and self.pick)

    def action_select(self) -> None:
        """Mark a run for comparison (its order number shows); again to unmark."""
        table = self.query_one(DataTable)
        if not self.rows or self.pick:
            return
        path = self.rows[table.cursor_row].path
        if path in self.selected:
            self.selected.remove(path)
        elif len(self.selected) >= MAX_RUNS:
            self.notify(f"At most {MAX_RUNS} runs are compared at once.", severity="warning")
            return
        else:
            self.selected.append(path)
        for r in self.rows:
            mark = str(self.selected.index(r.path) + 1) if r.path in self.selected else " "
            table.update_cell(str(r.path), table.ordered_columns[0].key, mark)
        self.query_one("#runs-title", Static).update(self._title())
        table.action_cursor_down()

    def action_choose(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            return
        path = self.rows[table.cursor_row].path
        if self.pick:
            self.dismiss(path)
        elif len(self.selected) > 1:
            self.post_message(OpenRuns(list(self.selected)))
        else:
            self.post_message(OpenRun(self.selected[0] if self.selected else path))

    def action_close(self) -> None:
        self.dismiss(None)
