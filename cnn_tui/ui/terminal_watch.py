"""The dashboard's terminal went away without a SIGHUP: notice it and quit.

A closed terminal normally ends the dashboard with SIGHUP. Some of the ways it can be started do
not pass that on. `make dashboard` is one: make takes the signal and waits for its child, and the
kernel gives the rest of the session nothing. Running under `nohup` is another. The dashboard then
stayed on a terminal that no longer exists. Textual's input thread read end-of-file from it in a
loop and kept a whole core busy (measured in tmux: 100% of a core after `kill-session`), taking it
from the run it had started, on a 2-core laptop.

So the app checks its terminal once a second, when it started on one (tests and pipes have none).
A terminal that answers `tcgetattr` with an I/O error has hung up: the app quits as it would on
SIGHUP, through `exit`, so that with --stop-on-exit the screens stop their runs and otherwise
the runs train on.
"""

from __future__ import annotations

import errno
import sys

CHECK_SECONDS = 1.0
HUNG_UP = (errno.EIO, errno.ENXIO, errno.EBADF)  # what a terminal whose other end has closed answers


def terminal_fd() -> int | None:
    """The descriptor of the terminal the dashboard reads its keys from, if it runs on one now."""
    try:
        import termios
    except ImportError:
        return None  # no termios (Windows): nothing to watch this way
    stdin = sys.__stdin__
    try:
        fd = stdin.fileno() if stdin is not None else -1
        termios.tcgetattr(fd)
    except (AttributeError, ValueError, OSError, termios.error):
        return None  # not a terminal (tests, a pipe): nothing to watch
    return fd


def hung_up(fd: int) -> bool:
    """Whether the terminal on `fd` has gone (its window closed, its SSH connection dropped)."""
    import termios

    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] in HUNG_UP
    except OSError as exc:
        return exc.errno in HUNG_UP
    return False
