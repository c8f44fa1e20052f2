"""`python -m cnn_tui.preflight.preview RECIPE [--set FIELD=VALUE ...]`: the picker's "before you
train" part of the preview, computed in a child process (the dashboard never imports torch): the
data report (`validate --data`: images per class and split, imbalance, skipped files, sizes and
modes, leakage) and the cost estimate (`validate --estimate`), each printed as one JSON line the
moment it is ready, {"part": "data"|"cost", "lines": [...]}; a recipe that cannot be checked gives
{"part": "error", "message": ...}. The picker kills the process when the selection moves on.
"""

from __future__ import annotations

import argparse
import json
import sys


def emit(part: str, **fields: object) -> None:
    sys.stdout.write(json.dumps({"part": part, **fields}) + "\n")
    sys.stdout.flush()


def cost_lines(found: dict[str, float], device: str) -> list[str]:
    """`validate --estimate`'s numbers in three short "label words" lines."""
    from cnn_tui.contract.layer_columns import format_macs

    mb = 2**20
    return [f"size {found['params']:,} parameters ({found['trainable']:,} trainable), "
            f"{format_macs(found['macs'])} an image",
            f"memory activations {found['activation_bytes'] / mb:.1f} MB a batch, peak about "
            f"{found['peak_bytes'] / mb:.1f} MB on {device}",
            f"time about {found['epoch_s']:.0f} s an epoch on {device} ({found['steps_per_epoch']} steps x "
            f"{found['step_s'] * 1000:.0f} ms, validation and views {found['val_s'] + found['views_s']:.1f} s)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_tui.preflight.preview")
    parser.add_argument("recipe")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args(argv)
    from cnn_tui.contract.errors import CnnTuiError

    try:
        from cnn_tui.preflight.data_report import data_report
        from cnn_tui.preflight.estimate import estimate
        from cnn_tui.preflight.session import refuse_image_kinds
        from cnn_tui.recipes.loader import load_recipe
        from cnn_tui.train.device import pick_device

        recipe, _ = load_recipe(args.recipe, args.overrides)
        refuse_image_kinds(recipe, "the preview's estimate")
        summary: list[str] = []
        data_report(recipe, summary)
        emit("data", lines=summary)
        device = pick_device(recipe.device)
        emit("cost", lines=cost_lines(estimate(recipe, device), device.type))
    except CnnTuiError as exc:
        emit("error", message=str(exc))
        return 2
    except Exception as exc:  # a broken recipe or dataset: said in the preview, never a traceback there
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
