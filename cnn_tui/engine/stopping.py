"""What SIGINT (Ctrl+C), SIGTERM and SIGHUP do to a `cnn-tui run`.

While the run is being prepared (scanning folders, decoding images, caching features,
downloading): nothing of the run is written yet, so any of them stops at once. The handler
raises StopNow wherever the main thread is, a blocking read of a FIFO or of /proc included;
atomic writes (caches) remove their temp files on the way out; the CLI says one line, exit 130.

While training: the first signal asks the loop to stop after this step and save a checkpoint
(SIGINT also says so, and that a second Ctrl+C quits without saving). A second SIGINT raises
QuitNow: the run ends at once with summary.json `interrupted` and the last complete
checkpoint; one that arrives during a checkpoint save waits for the save to finish (a torn or
leftover temp file is worse than a second's wait), and a third Ctrl+C kills outright.

Signals reach only the main thread, so this state is the process's own, kept here.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import TracebackType
from typing import Any

FIRST_PRESS = "stopping after this step, saving; press Ctrl+C again to quit without saving"
QUIT_REASON = "Ctrl+C twice: quit without saving"
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class StopNow(KeyboardInterrupt):
    """A signal while the run was being prepared: nothing was written; exit 130."""


class QuitNow(KeyboardInterrupt):
    """A second Ctrl+C while training: end the run now, without a new checkpoint."""


class _State:
    preparing = False  # set by install(), cleared by prepared() when the run starts
    shield = 0  # checkpoint saves in progress
    pending = False  # a second Ctrl+C came during a save


_state = _State()


def _say(text: str) -> None:
    try:
        os.write(2, f"cnn-tui: {text}\n".encode())  # not print(): a handler may land inside a print
    except OSError:
        pass


def _quit() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a third Ctrl+C kills
    raise QuitNow(QUIT_REASON)


def install(control: Any) -> None:
    """Handle the three signals for a run steered by `control` (a RunControl)."""

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if _state.preparing:
            _state.preparing = False  # once: the way out (temp files removed) is not interrupted again
            raise StopNow(f"stopped by {name} while preparing the run; nothing was written")
        if not control.stop_requested:
            control.request_stop(f"received {name}")
            if signum == signal.SIGINT:
                _say(FIRST_PRESS)
            return
        if signum != signal.SIGINT:
            return  # already stopping and saving
        if _state.shield:
            _state.pending = True
            return
        _quit()

    _state.preparing, _state.shield, _state.pending = True, 0, False
    for name in SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


def prepared(control: Any) -> None:
    """The run is about to start writing: from here a signal stops it cooperatively. A stop asked
    for while preparing (the dashboard closed its control channel) ends it now, nothing written."""
    was_preparing, _state.preparing = _state.preparing, False
    if was_preparing and control.stop_requested:
        raise StopNow(f"stopped while preparing the run ({control.stop_reason}); nothing was written")


def finished(exit_code: int) -> None:
    """The run has ended and said so: a signal now (a second Ctrl+C that came just too late) leaves
    at once with the run's own exit code, instead of an exception in the interpreter's way out."""

    def leave(_signum: int, _frame: Any) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(exit_code)

    for name in SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), leave)


class shielded:
    """A checkpoint save that a second Ctrl+C does not cut short: it quits right after instead."""

    def __enter__(self) -> None:
        _state.shield += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _state.shield -= 1
        if kind is None and not _state.shield and _state.pending:
            _state.pending = False
            _quit()


def leave_if_stuck(code: int) -> None:
    """Interrupted while a worker thread is blocked in a read that never returns (a FIFO, a hung
    network mount): the interpreter would wait for it forever on the way out. Nothing is being
    written by then (atomic writes have removed their temp files), so leave at once."""
    main_thread = threading.main_thread()
    if threading.current_thread() is main_thread and any(
            t is not main_thread and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
