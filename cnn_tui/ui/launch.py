"""Entry point for `cnn-tui` and `cnn-tui open`: check the arguments, then run the app."""

from __future__ import annotations

from pathlib import Path

from cnn_tui.errors import UsageError


def launch(recipes_dir: Path | None = None, run_dir: Path | None = None) -> int:
    if run_dir is not None and not (run_dir / "events.jsonl").is_file():
        raise UsageError(f"open {run_dir}: not a run directory (no events.jsonl in it)")
    if recipes_dir is not None and not recipes_dir.is_dir():
        raise UsageError(f"--recipes {recipes_dir}: no such folder")
    from cnn_tui.ui.picture_mode import detect_mode

    mode = detect_mode()  # before the app: it may ask the terminal, which the app then owns
    from cnn_tui.ui.app import CnnTuiApp

    dirs = [d for d in (Path("recipes"), recipes_dir) if d is not None and d.is_dir()]
    CnnTuiApp(recipes_dirs=dirs, run_dir=run_dir, picture_mode=mode).run()
    return 0
