"""`cnn-tui export RUN_DIR (--to csv|tensorboard DIR | --model onnx|torchscript FILE) [--force]`."""

from __future__ import annotations

import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path

from cnn_tui.commands.pipes import note
from cnn_tui.contract.errors import UsageError
from cnn_tui.export.output import check_file_target, check_folder_target, write_file, write_folder
from cnn_tui.record.run_files import check_run_dir

SCALAR_FORMATS = ("csv", "tensorboard")
EXTRA = "pip install 'cnn-tui[export]'"


def _needs(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(f"{what} needs the {module} package, which is not installed: {EXTRA}")


def export_scalars(run_dir: Path, fmt: str, target: Path, force: bool, say: Callable[[str], None]) -> int:
    check_run_dir(run_dir)
    check_folder_target(target, force, run_dir)  # before any work: a refusal is instant
    if fmt == "tensorboard":
        _needs("tensorboard", "export --to tensorboard")
        _needs("google_crc32c", "export --to tensorboard")
        from cnn_tui.export.tensorboard import export_tensorboard as writer
    else:
        from cnn_tui.export.csv_files import export_csv as writer
    started = time.perf_counter()
    counts: dict[str, int] = {}
    write_folder(target, force, lambda folder: counts.update(writer(run_dir, folder)), run_dir)
    written = ", ".join(f"{name} {n:,}" for name, n in counts.items()) or "nothing: the run logged no scalars yet"
    say(f"{target}: {written} ({time.perf_counter() - started:.1f} s)")
    if fmt == "tensorboard":
        say(f"view it: tensorboard --logdir {target}")
    return 0


def export_model_file(run_dir: Path, fmt: str, target: Path, force: bool, say: Callable[[str], None],
                      trust: bool = False, note: Callable[[str], None] | None = None) -> int:
    """`note` hears which Python file is about to be imported, where the model is the user's code."""
    from cnn_tui.record.run_files import classifier_run_recipe

    # before the slow imports: a style run, or user code changed since the run, is one line at once
    classifier_run_recipe(run_dir, "export", trust, note)
    check_file_target(target, force, run_dir)
    if fmt == "onnx":
        _needs("onnx", "export --model onnx")
        _needs("onnxscript", "export --model onnx")
    from cnn_tui.export.model import export_model

    checked: list[str] = []
    write_file(target, force, lambda path: checked.append(export_model(run_dir, fmt, path, trust)), run_dir)
    say(f"{target}: {fmt} model of {run_dir.name}; {checked[0]}")
    return 0


def cmd_export(args: Namespace) -> int:
    if args.to:
        return export_scalars(args.run_dir, args.to, args.target, args.force, print)
    return export_model_file(args.run_dir, args.model, args.target, args.force, print, args.trust, note)
