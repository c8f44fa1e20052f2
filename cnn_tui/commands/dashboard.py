"""`cnn-tui` with no command, and `cnn-tui open RUN_DIR...`: the dashboard."""

from __future__ import annotations

from pathlib import Path


def cmd_dashboard(recipes_dir: Path | None = None, run_dirs: list[Path] | None = None,
                  stop_on_exit: bool = False) -> int:
    from cnn_tui.ui.launch import launch

    return launch(recipes_dir=recipes_dir, run_dirs=run_dirs, stop_on_exit=stop_on_exit)
