"""`cnn-tui lr-find RECIPE`: the learning-rate range test on the recipe's own model, data,
optimizer and augmentation (preflight/lr_range.py), drawn in the terminal, kept as a small run
folder, and (`--write OUT.yaml`) written into a copy of the recipe.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from cnn_tui.contract.errors import UsageError, naming_the_file

DEFAULT_STEPS = 200
DEFAULT_START, DEFAULT_END = 1e-7, 10.0


def add_parser(sub: Any) -> None:
    """The subcommand's arguments (cli.py registers it with this one call)."""
    parser = sub.add_parser(
        "lr-find", help="the learning-rate range test: loss against an exponentially growing lr, and a suggestion",
        description="Train a few hundred steps with the lr growing from --start-lr to --end-lr, draw the loss "
                    "against the lr, and suggest an lr (fastai's valley). The weights are not kept; a small run "
                    "folder records the curve (cnn-tui show / open).")
    parser.add_argument("recipe", help="a recipe YAML file or a built-in recipe name")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--phase", type=int, default=1, metavar="N",
                        help="fine-tuning: the phase whose lr to find (default 1)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, metavar="N",
                        help=f"optimizer steps over the range (default {DEFAULT_STEPS})")
    parser.add_argument("--start-lr", type=float, default=DEFAULT_START, metavar="LR",
                        help=f"first lr (default {DEFAULT_START:g})")
    parser.add_argument("--end-lr", type=float, default=DEFAULT_END, metavar="LR",
                        help=f"last lr (default {DEFAULT_END:g}); the test stops sooner once the loss diverges")
    parser.add_argument("--pick", choices=["auto", "valley", "steepest"], default="auto",
                        help="which suggestion to report and --write (default auto: steepest for a one-cycle "
                             "schedule's peak, else the valley; see docs/preflight.md)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override recipe.device")
    parser.add_argument("--out", type=Path, default=Path("runs"), metavar="DIR",
                        help="parent folder of the run folder it writes (default: ./runs)")
    parser.add_argument("--write", type=Path, metavar="OUT.yaml",
                        help="write a copy of the recipe with the suggested lr (refused if OUT.yaml exists)")
    parser.add_argument("--force", action="store_true", help="with --write: replace a copy lr-find wrote before")
    parser.add_argument("--width", type=int, metavar="COLUMNS", help="chart width (default: the terminal's)")
    parser.add_argument("--height", type=int, default=18, metavar="ROWS", help="chart height (default 18)")


def _check_args(args: argparse.Namespace) -> None:
    if args.steps < 10 or args.steps > 10_000:
        raise UsageError(f"--steps {args.steps}: allowed 10..10000 (a curve needs points; a few hundred is usual)")
    if not 0 < args.start_lr < args.end_lr:
        raise UsageError(f"--start-lr {args.start_lr:g} --end-lr {args.end_lr:g}: needs 0 < start < end")
    if args.end_lr > 10:
        raise UsageError(f"--end-lr {args.end_lr:g}: at most 10 (the largest lr a recipe accepts)")
    if args.phase < 1:
        raise UsageError(f"--phase {args.phase}: phases are numbered from 1")
    if args.force and args.write is None:
        raise UsageError("--force: only with --write OUT.yaml")
    if args.width is not None and not 40 <= args.width <= 1000:
        raise UsageError(f"--width {args.width}: allowed 40..1000 columns")
    if not 8 <= args.height <= 200:
        raise UsageError(f"--height {args.height}: allowed 8..200 rows")


NOISE_LR = 1e-5  # a start at or below this moves no weight in a few steps: a "rise" from it is noise


def cmd_lr_find(args: argparse.Namespace) -> int:
    from cnn_tui.contract.writable import check_folder
    from cnn_tui.preflight.record import check_copy_target
    from cnn_tui.preflight.session import refuse_image_kinds
    from cnn_tui.recipes.loader import load_recipe

    _check_args(args)
    recipe, path = load_recipe(args.recipe, args.overrides)
    refuse_image_kinds(recipe, "lr-find")
    if args.write is not None:
        check_copy_target(args.write, args.force)  # before the training, not after
    check_folder(args.out, "--out")
    with naming_the_file(path):
        return _find(recipe, path, args)


def _find(recipe: Any, path: Path, args: argparse.Namespace) -> int:
    import torch

    from cnn_tui.preflight.lr_range import run_range_test
    from cnn_tui.preflight.session import Session
    from cnn_tui.train.device import pick_device

    device = pick_device(args.device or recipe.device)
    session = Session(recipe, device)
    phase = session.phase(args.phase - 1)
    if phase.trainable == 0:
        raise UsageError(f"lr-find: nothing trains in phase {args.phase} '{phase.name}' (0 trainable parameters)")
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=recipe.train.label_smoothing)
    batch = recipe.train.batch_size
    print(f"lr-find {recipe.name}: phase {args.phase}/{len(session.phases)} '{phase.name}' "
          f"({phase.optimizer.__class__.__name__}, recipe lr {phase.lr:g}, {phase.trainable:,} trainable "
          f"parameters) on {device.type}; {args.steps} steps, lr {args.start_lr:g} -> {args.end_lr:g}", flush=True)
    if session.num_train < batch:
        print(f"note: the training split has {session.num_train} images, fewer than one batch of {batch}: every "
              "step trains on the same images, so the curve shows how fast they are memorised", flush=True)
    snapshot = session.snapshot()
    batches = session.batches()
    started = time.time()
    optimizer = phase.optimizer
    assert optimizer is not None  # some parameter trains (checked above)

    def step(lr: float) -> float:
        for group in optimizer.param_groups:  # every group keeps its ratio to the head's lr
            group["lr"] = group["base_lr"] * lr / phase.lr
        x, y = next(batches)
        return session.step(optimizer, criterion, x, y)[0]

    result = run_range_test(step, args.steps, args.start_lr, args.end_lr)
    seconds = time.time() - started
    session.restore(snapshot)
    return _report(recipe, path, args, phase, result, seconds, device, session)


def _report(recipe: Any, path: Path, args: argparse.Namespace, phase: Any, result: Any, seconds: float,
            device: Any, session: Any) -> int:
    from cnn_tui.preflight.lr_chart import lr_chart

    marks = {name: lr for name, lr in (("valley", result.valley), ("steepest", result.steepest)) if lr is not None}
    width = args.width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    print(lr_chart(result.lrs, result.losses, marks, width, args.height, sys.stdout.isatty()))
    early = "stopped early" if len(result.lrs) < args.steps else "at the last step"
    print(f"{len(result.lrs)} steps in {seconds:.1f} s" + (f"; {early}: {result.stopped}" if result.stopped else ""))
    lowest = result.lrs[result.losses.index(min(result.losses))] if result.losses else None
    code = 0
    if result.suggestion is not None:
        from cnn_tui.preflight.lr_range import pick_for

        why = pick_for(result, args.pick, session.phases[phase.index].schedule.name)
        other = "steepest" if result.picked == "valley" else "valley"
        other_lr = result.steepest if other == "steepest" else result.valley
        print(f"suggested lr: {result.suggestion:.3g} ({why}; the {other} is "
              f"{'none' if other_lr is None else f'{other_lr:.3g}'}){_compared(result.suggestion, phase.lr)}")
    elif result.diverged_at_once and args.start_lr <= NOISE_LR:
        code = 1  # audit finding 1: at such rates a step barely moves the weights; "start lower" cannot help
        print(f"the loss never fell below its first steps' (lowest at lr {lowest or args.start_lr:.3g}, the start), "
              f"but at lr {args.start_lr:.3g} a step barely moves the weights: what rose is batch-to-batch noise, "
              f"not divergence, and a lower start cannot help. Use more steps (--steps, {len(result.lrs)} here; the "
              "default 200) or a larger batch, so that the curve outlasts the noise")
    elif result.diverged_at_once:
        code = 1
        print(f"the loss never fell: it rose from the first steps (lowest at lr {lowest or args.start_lr:.3g}, the "
              f"start) and diverged; these rates are too high for this recipe. Start lower, e.g. --start-lr "
              f"{args.start_lr / 1000:.0e}, and check the inputs' normalisation and the model's initialisation")
    else:
        code = 1
        print("the loss did not fall over the whole range: no lr to suggest. Is anything learning? "
              f"try `cnn-tui run {args.recipe} --overfit-batch`, or a wider range (--end-lr)")
    run_dir = _keep(recipe, args, phase, result, seconds, device, session)
    print(f"run directory: {run_dir}")
    if code == 0 and args.write is not None:
        from cnn_tui.preflight.record import write_recipe_copy

        write_recipe_copy(args.write, recipe, path, phase.lr_field, result.suggestion, phase.lr)
        print(f"wrote {args.write}: {path.name} with {phase.lr_field}: {result.suggestion:.3g}")
    elif args.write is not None:
        print(f"{args.write} not written: there is no suggestion to write", file=sys.stderr)
    return code


def _compared(suggestion: float, recipe_lr: float) -> str:
    ratio = recipe_lr / suggestion
    if 0.5 <= ratio <= 2:
        return f"; the recipe's {recipe_lr:g} is close to it"
    return f"; the recipe has {recipe_lr:g}, {ratio:.2g}x the suggestion"


def _keep(recipe: Any, args: argparse.Namespace, phase: Any, result: Any, seconds: float, device: Any,
          session: Any) -> Path:
    from cnn_tui.preflight.lr_events import run_events, summary_of
    from cnn_tui.preflight.record import write_run_folder

    return write_run_folder(
        args.out, f"{recipe.name}-lr-find", recipe,
        lambda run_id: run_events(run_id, recipe, session, phase, result, seconds, device),
        summary_of(recipe, phase, result, seconds, device))
