"""Cooperative control of a running loop: stop and pause are flags the loop polls.

Signal handlers, the dashboard's control pipe and tests all just set these flags; no
exception is ever thrown across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._checkpoint = threading.Event()
        self.checkpoint_due = False  # set by the loop's thread alone, where every rank agreed (parallel/agreement.py)
        self.stop_reason = ""

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def request_stop(self, reason: str = "stop requested") -> None:
        if not self._stop.is_set():
            self.stop_reason = reason
        self._stop.set()
        self._running.set()  # a paused loop must wake up to stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def request_checkpoint(self) -> None:
        """Save last.pt at the next step boundary ("save a checkpoint now")."""
        self._checkpoint.set()

    def take_checkpoint_request(self) -> bool:
        """Whether a checkpoint was asked for since the last call (two asks before a step: one save)."""
        asked = self._checkpoint.is_set()
        self._checkpoint.clear()
        return asked

    def wait_while_paused(self, on_change: Callable[[str], None]) -> None:
        """Block while paused, reporting the state changes; returns at once when running."""
        if self._running.is_set():
            return
        on_change("paused")
        while not self._running.wait(timeout=0.2):
            pass
        if not self._stop.is_set():
            on_change("running")

    def handle_command(self, line: str, origin: str = "the dashboard") -> None:
        """Commands from the control channels (the dashboard's stdin, RUN_DIR/commands/):
        'pause', 'resume', 'toggle', 'stop', 'checkpoint'."""
        command = line.strip().lower()
        if command == "pause":
            self.pause()
        elif command == "resume":
            self.resume()
        elif command == "toggle":
            self.resume() if self.paused else self.pause()
        elif command == "stop":
            self.request_stop(f"stopped from {origin}")
        elif command == "checkpoint":
            self.request_checkpoint()
