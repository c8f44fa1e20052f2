"""Run a program in a pseudo-terminal, as a user's terminal would, and time what it draws.

The benchmarks measure the real `cnn-tui` (its real driver writing escape codes), not a
headless copy: key bytes go in through the pty, and the time an expected text shows up
in the output is when the user would have seen the change.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time
import weakref
from pathlib import Path

_LIVE: weakref.WeakSet[PtyApp] = weakref.WeakSet()  # started, not yet stopped: ended with the harness


def stop_all() -> None:
    """End every dashboard a harness started (its session: the run it began too), e.g. when the harness
    itself is told to stop: a SIGTERM'd benchmark once left its dashboard running for hours."""
    for app in list(_LIVE):
        app.stop()


class PtyApp:
    def __init__(self, argv: list[str], cols: int, rows: int, cwd: Path, env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(env, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.buffer = bytearray()
        self.arrivals: list[tuple[int, float]] = []  # (buffer length after a chunk, when it came)
        self.lock = threading.Condition()
        self.closed = False
        _LIVE.add(self)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            with self.lock:
                if not chunk:
                    self.closed = True
                    self.lock.notify_all()
                    return
                self.buffer += chunk
                self.arrivals.append((len(self.buffer), time.monotonic()))
                self.lock.notify_all()

    def mark(self) -> int:
        """A position in the output: wait_for looks only at what came after it."""
        with self.lock:
            return len(self.buffer)

    def write(self, data: bytes) -> float:
        os.write(self.master, data)
        return time.monotonic()

    def start_recipe(self, name: str, timeout: float = 60.0) -> int:
        """From the picker: filter the list for `name` and press enter; returns the output's mark
        from before the enter. Each step waits for the screen's answer: keys sent on a timer (0.3 s
        after `/`) reached a loaded machine's picker before the filter box had focus, and the `e` in
        a recipe's name then opened an editor on a recipe (the case hung until its timeout)."""
        self.wait_for("pick a recipe", timeout=timeout)
        mark = self.mark()
        self.write(b"/")
        self.wait_for("ilter recipes", since=mark, timeout=timeout)  # the box's placeholder: it has focus
        self.write(name.encode())
        time.sleep(0.5)
        mark = self.mark()
        self.write(b"\r")
        return mark

    def wait_for(self, text: str, since: int = 0, timeout: float = 30.0) -> float:
        """monotonic() when the chunk completing `text` (first after `since`) was read."""
        needle = text.encode()
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = self.buffer.find(needle, since)
                if found >= 0:
                    end = found + len(needle)
                    return next(t for length, t in self.arrivals if length >= end)
                if self.closed:
                    raise RuntimeError(f"the program exited before showing {text!r}: "
                                       f"{bytes(self.buffer[-400:]).decode('utf-8', 'replace')}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{text!r} did not appear within {timeout:.0f} s")
                self.lock.wait(min(remaining, 0.05))

    def stop(self) -> None:
        _LIVE.discard(self)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass
