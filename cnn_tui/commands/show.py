"""`cnn-tui show RUN_DIR [RUN_DIR...] [--json] [--follow]`."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO

from cnn_tui.contract.errors import UsageError
from cnn_tui.record.history import RunHistory, build_history
from cnn_tui.record.scan import Scan, scan_run
from cnn_tui.show.json_view import run_json
from cnn_tui.show.report import Layout, render

PIPE_SIZE = (100, 40)  # columns, rows when stdout is not a terminal (COLUMNS/LINES override it)
CHARTS = 3  # a classification run's charts; the text takes the rest of the screen
MIN_CHART_ROWS = 12  # title, ticks and labels take 5 of them


def layout_for(out: IO[str], width: int | None, height: int | None) -> Layout:
    tty = out.isatty()
    columns, rows = shutil.get_terminal_size(PIPE_SIZE) if tty else _pipe_size()
    chart_rows = max(MIN_CHART_ROWS, min(20, (rows - 14) // CHARTS))
    return Layout(width or columns, height or chart_rows, color=tty)


def _pipe_size() -> tuple[int, int]:
    import os

    def env(name: str, default: int) -> int:
        value = os.environ.get(name, "")
        return int(value) if value.isdigit() and int(value) > 0 else default

    return env("COLUMNS", PIPE_SIZE[0]), env("LINES", PIPE_SIZE[1])


def load(run_dir: Path) -> tuple[RunHistory, Scan]:
    scan = scan_run(run_dir)
    return build_history(run_dir, scan.events), scan


def show(run_dirs: list[Path], as_json: bool = False, follow: bool = False, points: int = 500,
         width: int | None = None, height: int | None = None, out: IO[str] | None = None) -> int:
    out = out or sys.stdout
    if follow and (as_json or len(run_dirs) != 1):
        raise UsageError("show --follow: give one run directory, without --json")
    if points < 2:
        raise UsageError("show --points: needs at least 2")
    loaded = [load(run_dir) for run_dir in run_dirs]  # every folder checked before anything is printed
    if as_json:
        out.write(json.dumps({"runs": [run_json(h, s, points) for h, s in loaded]}, indent=1) + "\n")
        return 0
    layout = layout_for(out, width, height)
    if follow:
        from cnn_tui.show.follow import follow as follow_run

        history, scan = loaded[0]
        if layout.color:  # a terminal: redrawn in place, so the report must fit its screen
            layout = replace(layout, screen_rows=shutil.get_terminal_size(PIPE_SIZE).lines)
        screen = layout
        follow_run(history, scan.end, scan.reader, out, out.isatty(), lambda h: render(h, scan, screen))
        return 0
    rule = "\n" + "=" * min(layout.width, 100) + "\n"
    out.write(rule.join(render(h, s, layout) for h, s in loaded) + "\n")
    return 0
