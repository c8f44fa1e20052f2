"""Command line: `cnn-tui` (dashboard), run, list, validate, compare, augment, predict, show, export, open.

Heavy imports (torch, textual) happen inside the commands that need them, so that
`--help` and `list` start instantly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from cnn_tui import __version__
from cnn_tui.commands.pipes import SIGPIPE_EXIT, reader_gone
from cnn_tui.contract.errors import CnnTuiError

STOP_ON_EXIT_HELP = ("stop the live runs the dashboard shows when it quits (q asks, stop is the default) "
                     "or its terminal or SSH connection goes, saving a checkpoint; without it runs train "
                     "on by themselves and q asks with 'leave running' as the default")
EPILOG = """exit codes: 0 finished (also by early stopping), 1 training failed (NaN, crash, full disk),
2 bad usage, invalid recipe or bad path, 130 interrupted (after saving a checkpoint),
141 the reader of stdout went away (`| head`; a run keeps its own code)"""


TRUST_HELP = ("a run whose model is your own Python file (arch: python) imports that file: refused where its "
              "content changed since the run; --trust imports it anyway")


class _Parser(argparse.ArgumentParser):
    """argparse's own errors as every other bad input: one line `cnn-tui: error: ...`, exit 2
    (argparse prints its usage block first; --help still shows it). Subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("cnn-tui").strip()
        self.exit(2, f"cnn-tui: error: {where + ': ' if where else ''}{message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cnn-tui", description="Train convolutional networks from YAML recipes and watch them learn.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cnn-tui {__version__}")
    parser.add_argument("--recipes", type=Path, metavar="DIR",
                        help="with no command: also list the recipes in DIR in the dashboard")
    parser.add_argument("--stop-on-exit", action="store_true", help=STOP_ON_EXIT_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="train a recipe headless", epilog=EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("recipe", nargs="?", help="a recipe YAML file or a built-in recipe name")
    run.add_argument("--out", type=Path, default=Path("runs"), metavar="DIR",
                     help="parent folder of run directories (default: ./runs)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                     help="override a recipe field, e.g. --set train.optimizer.lr=0.01 (repeatable)")
    run.add_argument("--resume", type=Path, metavar="RUN_DIR",
                     help="continue an interrupted run from its checkpoints/last.pt (RECIPE may be "
                          "given too: it must be the run's own recipe)")
    run.add_argument("--allow-changes", action="store_true",
                     help="with --resume: let --set/--epochs change the run's recipe (recipe.yaml records it)")
    run.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override recipe.device")
    run.add_argument("--epochs", type=int, metavar="N", help="shortcut for --set train.epochs=N")
    run.add_argument("--quiet", action="store_true", help="print only the final line and errors")
    run.add_argument("--dry-run", action="store_true",
                     help="two batches of training and validation, write nothing, exit 0")
    run.add_argument("--overfit-batch", action="store_true",
                     help="sanity check instead of the run: train one fixed batch until its loss is near zero, "
                          "and say whether the model can fit it (and if not, why); writes nothing")
    run.add_argument("--events", metavar="PATH",
                     help="also write the event stream as JSON lines to PATH ('-': stdout, and the "
                          "human-readable output moves to stderr)")
    run.add_argument("--run-dir-file", type=Path, metavar="PATH",
                     help="once the run has started, write its run directory's path to PATH (for scripts; "
                          "the dashboard starts runs this way)")
    run.add_argument("--control-stdin", action="store_true",
                     help="read pause/resume/stop/detach commands from stdin, a pipe from another program "
                          "(EOF stops the run unless 'detach' came first)")
    parallel = run.add_argument_group("data-parallel training (torch.distributed, launched through torchrun)")
    parallel.add_argument("--nproc", type=int, metavar="N",
                          help="worker processes on this node (default: the recipe's train.distributed.nproc)")
    parallel.add_argument("--nnodes", type=int, default=1, metavar="N", help="nodes taking part (default 1)")
    parallel.add_argument("--node-rank", type=int, default=0, metavar="K", help="this node's rank, 0..nnodes-1")
    parallel.add_argument("--master-addr", metavar="HOST", help="node 0's address (several nodes)")
    parallel.add_argument("--master-port", type=int, metavar="PORT", help="node 0's port (default 29500)")
    parallel.add_argument("--rdzv-endpoint", metavar="HOST:PORT",
                          help="a c10d rendezvous instead of fixed node ranks (torchrun's --rdzv-endpoint)")

    listing = sub.add_parser("list", help="list the built-in recipes")
    listing.add_argument("folder", nargs="?", type=Path, help="list the recipes in this folder instead")

    checks = ("check a recipe without training it: its fields, its data folders, and its model, built (an "
              "arch: python recipe imports your .py file, running its top-level code)")
    validate = sub.add_parser("validate", help=checks, description=checks)
    validate.add_argument("recipe")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    validate.add_argument("--classes", type=int, metavar="N",
                          help="size the classifier for N classes (1000: the papers' ImageNet tables)")
    validate.add_argument("--data", action="store_true",
                          help="also load the data and report it: images per class and split, skipped files, and "
                               "images that val/test share with train (exact and near copies)")
    validate.add_argument("--estimate", action="store_true",
                          help="also time a few training steps: memory per batch, peak memory, time per epoch")
    validate.add_argument("--find-batch-size", action="store_true",
                          help="the largest power-of-two batch that fits the device's memory with a 10%% margin")
    validate.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="--estimate: override recipe.device")

    comparer = sub.add_parser("compare", help="run recipes side by side and print a comparison table")
    comparer.add_argument("recipes", nargs="+", metavar="RECIPE")
    comparer.add_argument("--seeds", type=int, default=3,
                          help="runs per recipe, seeds recipe.seed + 0..N-1 (default 3)")
    comparer.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                          help="override a field in every recipe")
    comparer.add_argument("--out", type=Path, default=Path("runs") / "compare", metavar="DIR",
                          help="parent folder of the runs (default: ./runs/compare)")

    augmenter = sub.add_parser("augment", help="a PNG grid of one training image and its augmentations")
    augmenter.add_argument("recipe")
    augmenter.add_argument("--out", type=Path, metavar="FILE.png",
                           help="where to write (default: ./augment-NAME.png; refused if it exists)")
    augmenter.add_argument("--index", type=int, default=0, metavar="N", help="which training image (default 0)")
    augmenter.add_argument("--draws", type=int, default=15, metavar="N", help="augmented copies (default 15)")
    augmenter.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    augmenter.add_argument("--force", action="store_true", help="replace FILE.png if it exists")

    predictor = sub.add_parser(
        "predict", help="classify images with a run's kept checkpoint (or an ImageNet network)",
        description="cnn-tui predict RUN_DIR IMAGE_OR_FOLDER...  |  cnn-tui predict --backbone NAME IMAGE...")
    predictor.add_argument("targets", nargs="+", metavar="RUN_DIR_OR_IMAGE",
                           help="a run directory, then images or folders of images")
    predictor.add_argument("--backbone", metavar="NAME",
                           help="classify with this ImageNet network instead of a run (e.g. efficientnet_lite0)")
    predictor.add_argument("--top-k", type=int, default=3, metavar="K", help="classes per image (default 3)")
    predictor.add_argument("--json", action="store_true", help="one JSON document for scripts")
    predictor.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    predictor.add_argument("--trust", action="store_true", help=TRUST_HELP)

    viewer = sub.add_parser(
        "views", help="draw a finished run's views (Grad-CAM, feature maps, a shifted copy) for a probe you choose",
        description="cnn-tui views RUN_DIR [--image FILE | --index N | --class NAME] [--shift PX]")
    viewer.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    viewer.add_argument("--image", type=Path, metavar="FILE", help="any image file as the probe")
    viewer.add_argument("--index", type=int, metavar="N", help="validation image N as the probe (default 0)")
    viewer.add_argument("--class", dest="class_name", metavar="NAME", help="the first validation image of a class")
    viewer.add_argument("--shift", type=int, default=4, metavar="PX",
                        help="the equivariance pair: the probe moved PX right and down (default 4)")
    viewer.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    viewer.add_argument("--trust", action="store_true", help=TRUST_HELP)

    shower = sub.add_parser("show", help="print a run's summary, diagnoses and charts (for SSH and CI logs)")
    shower.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    shower.add_argument("--json", action="store_true",
                        help="one JSON document: summary, diagnoses and downsampled series")
    shower.add_argument("--follow", action="store_true",
                        help="keep printing as a live run goes on (until it finishes; Ctrl-C stops)")
    shower.add_argument("--points", type=int, default=500, metavar="N",
                        help="--json: at most N points per series (default 500)")
    shower.add_argument("--width", type=int, metavar="COLUMNS", help="chart width (default: the terminal's)")
    shower.add_argument("--height", type=int, metavar="ROWS", help="height of each chart")

    exporter = sub.add_parser(
        "export", help="a run's scalars to CSV or TensorBoard, or its kept model to ONNX or TorchScript",
        description="cnn-tui export RUN_DIR --to csv|tensorboard DIR  |  "
                    "cnn-tui export RUN_DIR --model onnx|torchscript FILE")
    exporter.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    exporter.add_argument("target", type=Path, metavar="DIR_OR_FILE", help="where to write (refused if it exists)")
    what = exporter.add_mutually_exclusive_group(required=True)
    what.add_argument("--to", choices=["csv", "tensorboard"],
                      help="every scalar of events.jsonl: CSV files, or a TensorBoard event file, in DIR")
    what.add_argument("--model", choices=["onnx", "torchscript"],
                      help="the kept checkpoint as a standalone model FILE (takes [0, 1] images, gives logits)")
    exporter.add_argument("--force", action="store_true",
                          help="replace an earlier export at DIR_OR_FILE (never a folder holding anything else)")
    exporter.add_argument("--trust", action="store_true", help=TRUST_HELP)

    server = sub.add_parser("serve", help="serve the dashboard to a web browser (textual-serve)",
                            description="Each browser tab gets its own dashboard. Runs started from a tab "
                                        "keep training when the tab closes (open them again from the runs list).")
    server.add_argument("--host", default="localhost", help="address to listen on (default: localhost)")
    server.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    server.add_argument("--recipes", type=Path, metavar="DIR", help="also list the recipes in DIR")

    from cnn_tui.commands.lr_find import add_parser as add_lr_find

    add_lr_find(sub)
    from cnn_tui.commands.control import HELP as CONTROL_HELP

    for name, text in CONTROL_HELP.items():
        commander = sub.add_parser(name, help=text, description=f"{text}. Works on any live run: started by "
                                   "`cnn-tui run`, a dashboard, torchrun, or on another host sharing the folder.")
        commander.add_argument("run_dir", type=Path, metavar="RUN_DIR")
        commander.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                               help="how long to wait for the run to act (default 10; 0: send and return)")

    opener = sub.add_parser("open", help="open a run directory in the dashboard (follows it if live); "
                                         "several: compared, the others overlaid on the first's curves")
    opener.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    opener.add_argument("--stop-on-exit", dest="open_stop_on_exit", action="store_true", help=STOP_ON_EXIT_HELP)
    return parser


# `cnn-tui` alone opens the dashboard: what parse_args([]) gives, without building the parser, whose
# sixteen subcommands cost the dashboard's first frame 10-20 ms (a test keeps the two the same)
DASHBOARD_ALONE = argparse.Namespace(recipes=None, stop_on_exit=False, command=None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = argparse.Namespace(**vars(DASHBOARD_ALONE)) if not argv else build_parser().parse_args(argv)
    from cnn_tui.commands.openmp import spin_wait_for

    spin_wait_for(args.command)  # before the command imports torch
    code: int | None = None
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader gone away is found here, not at interpreter exit
        return code
    except BrokenPipeError:
        reader_gone()
        # a run's exit code says how training went (its printer carries on without a reader)
        return code if code is not None and args.command == "run" else SIGPIPE_EXIT
    except CnnTuiError as exc:
        print(f"cnn-tui: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # stopping.StopNow/QuitNow carry what was (not) kept
        print(f"cnn-tui: interrupted: {exc.args[0] if exc.args else 'nothing more was saved'}", file=sys.stderr)
        from cnn_tui.engine.stopping import leave_if_stuck

        leave_if_stuck(130)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command `args` names; its exit code."""
    if args.command == "run":
        from cnn_tui.commands.run import cmd_run

        return cmd_run(args)
    if args.command == "list":
        from cnn_tui.commands.listing import cmd_list

        return cmd_list(args)
    if args.command == "lr-find":
        from cnn_tui.commands.lr_find import cmd_lr_find

        return cmd_lr_find(args)
    if args.command == "validate":
        from cnn_tui.commands.validate import cmd_validate

        return cmd_validate(args)
    if args.command == "compare":
        from cnn_tui.commands.compare import cmd_compare

        return cmd_compare(args)
    if args.command == "augment":
        from cnn_tui.commands.augment import cmd_augment

        return cmd_augment(args)
    if args.command == "predict":
        from cnn_tui.commands.predict import cmd_predict

        return cmd_predict(args)
    if args.command == "views":
        from cnn_tui.commands.pipes import note
        from cnn_tui.commands.views import cmd_views

        return cmd_views(args, note)
    if args.command == "show":
        from cnn_tui.commands.show import show

        return show(args.run_dirs, args.json, args.follow, args.points, args.width, args.height)
    if args.command == "export":
        from cnn_tui.commands.export import cmd_export

        return cmd_export(args)
    if args.command == "serve":
        from cnn_tui.commands.serve import cmd_serve

        return cmd_serve(args)
    if args.command in ("pause", "resume", "stop", "checkpoint"):
        from cnn_tui.commands.control import control

        return control(args.command, args.run_dir, args.wait)
    from cnn_tui.commands.dashboard import cmd_dashboard

    if args.command == "open":
        return cmd_dashboard(run_dirs=args.run_dirs, stop_on_exit=args.stop_on_exit or args.open_stop_on_exit)
    return cmd_dashboard(recipes_dir=args.recipes, stop_on_exit=args.stop_on_exit)


if __name__ == "__main__":
    sys.exit(main())
