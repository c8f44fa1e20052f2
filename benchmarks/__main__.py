"""`python -m benchmarks [--quick] [--only N,...] [--markdown FILE]`: run every case, print the table.

Exit status: 0 when every target holds, 1 when one fails (in --quick mode the numbers
are indicative, so only a case that could not run fails the command), 2 on a crash.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from benchmarks.common import Result

CASES = {  # case number -> module under benchmarks.cases
    "1": "training", "3": "rendering", "4": "responsiveness", "5": "startup", "6": "features", "8": "style",
    "9": "real_data", "10": "records", "11": "views", "12": "parallel", "13": "control", "14": "wire",
    "15": "estimate",  # issue 30 (preflight): validate --estimate against a real epoch
}  # cases 2 and 7 are measured by the training runs of case 1


def machine() -> str:
    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}, {platform.system()}")


def format_table(rows: list[Result]) -> str:
    headers = ("case", "measured", "result", "target", "")
    table = [headers] + [(r.case, r.measure, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _stop_on_signal() -> None:
    """SIGTERM / SIGHUP end the harness as Ctrl+C does: SystemExit unwinds every case's `finally`,
    so its dashboards and their runs are stopped (pty_app.stop_all), not left running alone."""
    import signal

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, leave)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.pty_app import stop_all

    _stop_on_signal()
    try:
        return _main(argv)
    finally:
        stop_all()


def _main(argv: list[str] | None = None) -> int:
    import importlib

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, one rep each (a smoke test)")
    parser.add_argument("--only", default="", help="comma-separated case numbers, e.g. 3,5")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per case (default 3, quick 1)")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write the table as Markdown into FILE (between its results markers, "
                             "e.g. benchmarks/README.md)")
    args = parser.parse_args(argv)
    if args.markdown:
        from benchmarks.markdown import check

        try:
            check(args.markdown)
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
    reps = args.reps or (1 if args.quick else 3)
    chosen = [c for c in CASES if not args.only or c in args.only.split(",")]
    print(f"cnn-tui benchmarks{' (quick)' if args.quick else ''}: {machine()}", flush=True)
    rows: list[Result] = []
    crashed = False
    for number in chosen:
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.cases.{CASES[number]}")
        try:
            new = module.run(args.quick, reps)
        except Exception:
            crashed = True
            traceback.print_exc()
            new = [Result(f"{number} {CASES[number]}", "could not run (traceback above)", "-", "-", False)]
        rows += new
        for row in new:
            print(f"  {row.case}: {row.measure}: {row.value} ({row.target}) {row.verdict}", flush=True)
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    print()
    print(format_table(rows))
    if args.markdown and not crashed:
        from benchmarks.markdown import gpu, write

        command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
        try:
            write(args.markdown, rows, f"{machine()}, {gpu()}", command)
        except (OSError, ValueError) as exc:
            print(f"benchmarks: error: {exc}", file=sys.stderr)
            return 2
        print(f"results written to {args.markdown}")
    if crashed:
        return 2
    return 0 if args.quick or all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
