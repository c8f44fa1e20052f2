"""stdout and stderr as a command line uses them: notes on stderr, and a reader that went away."""

from __future__ import annotations

import os
import sys


def note(line: str) -> None:
    """A line about what is about to happen, on stderr (stdout stays the command's output)."""
    print(f"cnn-tui: {line}", file=sys.stderr, flush=True)


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a program that SIGPIPE ended, as `yes | head -1` does


def reader_gone() -> None:
    """The reader of stdout closed it (`cnn-tui predict RUN dir | head -1`): stop quietly, like any Unix
    filter. The exit code is the one a filter killed by SIGPIPE gives (141), not 0: the output was cut
    short, and `set -o pipefail` scripts should see that; no message, since the reader chose to stop.
    stdout is pointed at /dev/null so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
