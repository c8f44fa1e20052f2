"""What `cnn-tui run` does differently for a data-parallel run: whether it is one (--nproc, the
recipe's train.distributed.nproc, several nodes), the command line each rank runs, and how a
rank leaves."""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from typing import Any

from cnn_tui.contract.errors import UsageError
from cnn_tui.parallel.launch import Topology


def topology_of(args: Namespace, recipe: Any) -> Topology | None:
    """The launcher's settings where the run is data-parallel; None for a single process."""
    settings = getattr(getattr(recipe, "train", None), "distributed", None)
    nproc = args.nproc if args.nproc is not None else (settings.nproc if settings is not None else 1)
    if nproc < 1 or args.nnodes < 1 or not 0 <= args.node_rank < args.nnodes:
        raise UsageError(f"--nproc {nproc}, --nnodes {args.nnodes}, --node-rank {args.node_rank}: need nproc >= 1, "
                         "nnodes >= 1 and 0 <= node-rank < nnodes")
    if nproc == 1 and args.nnodes == 1:
        return None
    if settings is None:
        raise UsageError(f"--nproc: {recipe.kind} runs on one process (only the classification kinds train "
                         "data-parallel)")
    return Topology(nproc, args.nnodes, args.node_rank, args.master_addr, args.master_port, args.rdzv_endpoint)


def worker_args(args: Namespace, overrides: list[str], topology: Topology) -> list[str]:
    """`cnn-tui run` as each rank runs it: the same recipe and options, the process count recorded."""
    worker = [args.recipe] if args.recipe else []
    for override in overrides:
        worker += ["--set", override]
    worker += ["--set", f"train.distributed.nproc={topology.nproc}", "--out", str(args.out)]
    for flag, value in (("--resume", args.resume), ("--device", args.device), ("--events", args.events),
                        ("--run-dir-file", args.run_dir_file)):
        if value is not None:
            worker += [flag, str(value)]
    worker += [flag for flag, on in (("--quiet", args.quiet), ("--dry-run", args.dry_run),
                                      ("--control-stdin", args.control_stdin),
                                      ("--allow-changes", getattr(args, "allow_changes", False))) if on]
    return worker


def leave_now(code: int) -> None:
    """A torchrun worker whose run is written and whose process group is gone exits at once: the C++
    threads of gloo/NCCL and the DataLoader can abort in interpreter teardown (seen once in CI as
    "terminate called without an active exception", a SIGABRT after a completed run)."""
    from cnn_tui.parallel.rank_logs import release

    release()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
