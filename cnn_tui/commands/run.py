"""`cnn-tui run RECIPE`: the recipe headless, or the run folder RUN_DIR resumed (`--resume`).

The recipe is loaded (and, on resume, held to the run's own unless `--allow-changes`), the event
sinks are set up (the printer, `--events`, the dashboard's `--run-dir-file` note), data-parallel
runs go to torchrun's launcher, and the run itself to `runner.execute` with signals handled by
`stopping`. Heavy imports stay inside the function, so `cnn-tui --help` starts at once.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from cnn_tui.contract.errors import naming_the_file
from cnn_tui.contract.sinks import EventSink


def _overrides(args) -> list[str]:
    extra = [f"train.epochs={args.epochs}"] if args.epochs is not None else []
    return list(args.overrides) + extra


def cmd_run(args) -> int:
    from cnn_tui.commands.run_parallel import leave_now, topology_of, worker_args
    from cnn_tui.contract.errors import UsageError
    from cnn_tui.contract.sinks import FanOut, JsonLinesSink, events_file
    from cnn_tui.engine import stopping
    from cnn_tui.engine.runner import RunOptions, execute
    from cnn_tui.engine.world import launched_by_torchrun
    from cnn_tui.headless.printer import HeadlessPrinter
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.record.rundir import RECIPE
    from cnn_tui.train.control import RunControl

    if getattr(args, "overfit_batch", False):  # the one-batch sanity check instead of the run (preflight)
        from cnn_tui.commands.overfit_batch import cmd_overfit_batch

        return cmd_overfit_batch(args, _overrides(args))
    rank = int(os.environ["RANK"]) if launched_by_torchrun() else 0
    if rank > 0:
        from cnn_tui.parallel.rank_logs import hold_output

        hold_output(rank)  # rank 0 alone speaks; the others' output goes to the run's logs/
    changes: list = []
    if args.resume is not None:
        recipe, recipe_path = load_recipe(str(args.resume / RECIPE), _overrides(args))
        if args.recipe:
            _same_recipe_or_refuse(args.recipe, _overrides(args), recipe, args.resume)
        if _overrides(args):
            from cnn_tui.recipes.resume_changes import resume_changes

            original, _ = load_recipe(str(args.resume / RECIPE))
            changes = resume_changes(original.model_dump(mode="json"), recipe.model_dump(mode="json"), args.resume,
                                     args.allow_changes)
    elif not args.recipe:
        raise UsageError("run: give a recipe file or built-in name (see 'cnn-tui list')")
    else:
        recipe, recipe_path = load_recipe(args.recipe, _overrides(args))

    events_to_stdout = args.events == "-" and rank == 0
    # ranks other than 0: errors and the final line, into their log (the run's events are rank 0's)
    printer = HeadlessPrinter(sys.stderr if events_to_stdout or rank > 0 else sys.stdout, quiet=args.quiet or rank > 0)
    sinks: list[EventSink] = [printer]
    if events_to_stdout:
        sinks.append(JsonLinesSink(sys.stdout))
    elif args.events and rank == 0:
        sinks.append(events_file(Path(args.events)))
    if args.run_dir_file is not None and rank == 0:
        from cnn_tui.contract.sinks import RunDirNote

        sinks.append(RunDirNote(args.run_dir_file, args.out, args.resume, printer.line))
    topology = topology_of(args, recipe)
    if topology is not None and not launched_by_torchrun():
        from cnn_tui.parallel.launch import launch

        return launch(topology, worker_args(args, _overrides(args), topology), FanOut(*sinks[1:]), printer.line)
    control = RunControl()
    stopping.install(control)  # preparing: a signal stops at once; training: save, then exit 130
    if args.control_stdin and rank == 0:  # rank 0 reads the dashboard; every rank agrees on its flags
        _read_control(control)
    options = RunOptions(out=args.out, resume=args.resume, device=args.device, dry_run=args.dry_run,
                         recipe_changes=changes)
    with naming_the_file(recipe_path):
        result = execute(recipe, options, FanOut(*sinks), control)
    stopping.finished(result.exit_code)  # a Ctrl+C from here on changes nothing: the run is over
    if result.run_dir is not None and not args.quiet and rank == 0:
        printer.line(f"run directory: {result.run_dir}")
    if launched_by_torchrun():
        leave_now(result.exit_code)
    return result.exit_code


def _same_recipe_or_refuse(ref: str, overrides: list[str], run_recipe, run_dir: Path) -> None:
    """`run RECIPE --resume RUN_DIR` goes on only where RECIPE is what the run ran: a resumed run
    must not quietly change under its checkpoint."""
    from cnn_tui.contract.errors import UsageError, excerpt_pair
    from cnn_tui.recipes.diff import differing_fields
    from cnn_tui.recipes.loader import load_recipe

    given, given_path = load_recipe(ref, overrides)
    diffs = differing_fields(run_recipe.model_dump(mode="json"), given.model_dump(mode="json"))
    if diffs:
        pairs = [(name, *excerpt_pair(old, new, 30)) for name, old, new in diffs[:3]]
        shown = "; ".join(f"{name}: run {old}, {given_path.name} {new}" for name, old, new in pairs) + (
            "; ..." if len(diffs) > 3 else "")
        differ = "1 field differs" if len(diffs) == 1 else f"{len(diffs)} fields differ"
        raise UsageError(f"{given_path}: not the recipe of {run_dir} ({differ}: {shown}); "
                         f"resume with `cnn-tui run --resume {run_dir}` (the run's own recipe), "
                         "or start a new run with the changed recipe")


def _read_control(control) -> None:
    """The dashboard's control channel. EOF (the dashboard is gone) stops the run cleanly,
    unless the dashboard said 'detach' first (the user chose to leave it running headless)."""

    def reader() -> None:
        detached = False
        for line in sys.stdin:
            if line.strip() == "detach":
                detached = True
            control.handle_command(line)
        if not detached:
            control.request_stop("the dashboard closed the control channel")

    threading.Thread(target=reader, name="control-stdin", daemon=True).start()
