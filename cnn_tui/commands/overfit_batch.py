"""`cnn-tui run RECIPE --overfit-batch`: the one-batch sanity check (preflight/overfit.py) in
place of the run: nothing is written, and the exit code says whether the model fits the batch
(0) or not (1, with the cause the numbers point to)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from cnn_tui.contract.errors import UsageError, naming_the_file


def cmd_overfit_batch(args: argparse.Namespace, overrides: list[str]) -> int:
    from cnn_tui.preflight.overfit import FIT_IMAGES, NEAR_ZERO, fit_one_batch, verdict
    from cnn_tui.preflight.session import Session, refuse_image_kinds
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.train.device import pick_device

    for flag, given in (("--resume", args.resume), ("--dry-run", args.dry_run), ("--nproc", args.nproc),
                        ("--control-stdin", args.control_stdin), ("--events", args.events)):
        if given:
            raise UsageError(f"--overfit-batch: not with {flag} (the check trains one batch and writes nothing)")
    if not args.recipe:
        raise UsageError("run --overfit-batch: give a recipe file or built-in name (see 'cnn-tui list')")
    recipe: Any
    recipe, path = load_recipe(args.recipe, overrides)
    refuse_image_kinds(recipe, "--overfit-batch")
    with naming_the_file(path):
        device = pick_device(args.device or recipe.device)
        session = Session(recipe, device)
        phase = session.phase(0)
        images = min(FIT_IMAGES, recipe.train.batch_size, session.num_train)
        print(f"overfit-batch {recipe.name}: {images} training images, one fixed batch; "
              f"{phase.optimizer.__class__.__name__} at lr {phase.lr:g} (no schedule), "
              f"{phase.trainable:,} trainable parameters, on {device.type}; until the loss < {NEAR_ZERO:g}",
              flush=True)
        if recipe.train.label_smoothing:
            print(f"note: train.label_smoothing {recipe.train.label_smoothing:g} is left out here (it keeps the "
                  "loss away from zero by design)")
        started = time.time()
        trace = fit_one_batch(session)
    result = verdict(trace)
    if trace.losses:
        print(f"{len(trace.losses) - 1} steps in {time.time() - started:.1f} s; loss {trace.losses[0]:.3g} -> "
              f"{trace.final:.3g}; weights moved {trace.update_ratio:.1%}; other training images "
              f"{max(trace.probe_acc, default=0):.0%} right at best (chance {1 / trace.classes:.0%})")
    print(("problem: " if not result.fits else "warning: " if result.cause else "ok: ") + result.message)
    return 0 if result.fits else 1
