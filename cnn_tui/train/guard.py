"""How a loop ends when it does not end by itself: a crash, an interrupt, a divergence. One guard
serves every kind's loop (classification and style transfer), so each ending says the same things
in the same order: a stop saves last.pt then reports `interrupted`; a crash logs its traceback and
still returns an outcome (the runner then writes summary.json and `finished`); CUDA running out of
memory gets the loop's own advice instead of a traceback."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

import torch

from cnn_tui.contract.errors import DataError, WriteError
from cnn_tui.contract.events import Diagnosis, Event, Log
from cnn_tui.train.checkpoint import CheckpointError
from cnn_tui.train.control import RunControl


@dataclass
class Ending:
    """How a loop ended: completed, early_stopped, interrupted, diverged or failed, and why."""

    status: str
    reason: str = ""


def crash_in_words(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


class Guard:
    def __init__(self, emit: Callable[[Event], None], control: RunControl,
                 why_failed: Callable[[Exception], str] = crash_in_words) -> None:
        self.emit, self.control, self.why_failed = emit, control, why_failed

    def run(self, loop: Callable[[], Ending], out_of_memory: str) -> Ending:
        """`loop()`'s ending, or `failed` with one line: the user's errors (a bad checkpoint, a full
        disk, unreadable data) as they are, anything else with its traceback logged first."""
        try:
            return loop()
        except torch.cuda.OutOfMemoryError:
            return Ending("failed", out_of_memory)
        except (CheckpointError, DataError, WriteError) as exc:  # WriteError: events.jsonl, a full disk
            return Ending("failed", str(exc))
        except Exception as exc:  # a crash must still end with a summary and an exit code
            self.emit(Log(level="error", message=traceback.format_exc()))
            return Ending("failed", self.why_failed(exc))

    def interrupted(self, save: Callable[[str], None]) -> Ending:
        """A stop asked for (a signal, the dashboard, `cnn-tui stop`): last.pt first, then the ending."""
        save("interrupt")
        return Ending("interrupted", self.control.stop_reason or "interrupted")

    def diverged(self, reason: str, diagnoses: list[Diagnosis]) -> Ending:
        """A NaN or Inf: the diagnoses that say what to change, then the ending (last.pt stays the last good one)."""
        for diagnosis in diagnoses:
            self.emit(diagnosis)
        return Ending("diverged", reason)
