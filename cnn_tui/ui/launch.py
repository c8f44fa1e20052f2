"""Entry point for `cnn-tui` and `cnn-tui open`: check the arguments, then run the app."""

from __future__ import annotations

import sys
from pathlib import Path

from cnn_tui.contract.errors import UsageError


def launch(recipes_dir: Path | None = None, run_dirs: list[Path] | None = None, stop_on_exit: bool = False) -> int:
    run_dirs = list(run_dirs or [])
    if run_dirs:  # imported only here: the recipe schemas (pydantic) and the compare state would cost the
        from cnn_tui.record.run_files import check_readable  # picker's first frame about a tenth of a second
        from cnn_tui.ui.compared_runs import MAX_RUNS

        if len(run_dirs) > MAX_RUNS:
            raise UsageError(f"open: {len(run_dirs)} runs; at most {MAX_RUNS} are compared at once")
        for run_dir in run_dirs:
            try:
                check_readable(run_dir)
            except UsageError as exc:
                raise UsageError(f"open {exc}") from None
    if recipes_dir is not None and not recipes_dir.is_dir():
        raise UsageError(f"--recipes {recipes_dir}: no such folder")
    from cnn_tui.ui.chart_engines import engine_setting
    from cnn_tui.ui.priority import for_dashboard, for_dashboard_threads, priority_setting

    try:
        engine_setting()
        priority_setting()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for_dashboard()
    from cnn_tui.ui.picture_mode import detect_mode

    mode = detect_mode()  # before the app: it may ask the terminal, which the app then owns
    from cnn_tui.ui.app import CnnTuiApp

    dirs = [d for d in (Path("recipes"), recipes_dir) if d is not None and d.is_dir()]
    app = CnnTuiApp(recipes_dirs=dirs, run_dirs=run_dirs, picture_mode=mode, stop_on_exit=stop_on_exit,
                    home="runs" if not run_dirs and any_live_run(Path("runs")) else "picker")
    from cnn_tui.ui import collector

    collector.install()  # full garbage collections walk only what is new: no 100 ms stall under a key
    switch = for_dashboard_threads()  # a finished frame is written at once
    try:
        app.run()
    finally:
        collector.uninstall()
        sys.setswitchinterval(switch)
    return 0


def any_live_run(runs_dir: Path) -> bool:
    """A returning user with runs still training starts on the runs list (escape: the recipes)."""
    if not runs_dir.is_dir():
        return False  # a first launch: no run records to import the readers of (50 ms of the first frame)
    from cnn_tui.ui.run_rows import list_runs

    return any(row.live for row in list_runs(runs_dir))
