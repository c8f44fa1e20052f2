"""How a run segment ends, and what follows from it: its exit code, whether it kept what it
trained, whether it is over for good. One enum, so no face spells a status or a rule twice.

StrEnum on purpose: a status is still the plain string on the wire (events.jsonl,
summary.json) and in every comparison written before the enum existed.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The `status` of RunFinished and summary.json."""

    COMPLETED = "completed"
    EARLY_STOPPED = "early_stopped"
    INTERRUPTED = "interrupted"  # Ctrl+C, SIGTERM, `cnn-tui stop`: resumable into the same folder
    DIVERGED = "diverged"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        """Training ended as the recipe asked: its weights are worth keeping and scoring."""
        return self in FINISHED_OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self]

    @property
    def is_error(self) -> bool:
        """Shown in red: the run went wrong, not just stopped."""
        return self in (Status.DIVERGED, Status.FAILED)


FINISHED_OK = (Status.COMPLETED, Status.EARLY_STOPPED)
EXIT_CODES: dict[Status, int] = {Status.COMPLETED: 0, Status.EARLY_STOPPED: 0, Status.INTERRUPTED: 130,
                                 Status.DIVERGED: 1, Status.FAILED: 1}


def run_is_over(status: str | None) -> bool:
    """A segment that ended with this status is the run's last: every status but `interrupted`
    (which `run --resume` may carry on into the same folder, so followers keep following)."""
    return status is not None and status != Status.INTERRUPTED


class Severity(StrEnum):
    """How loud a diagnosis (or a log line) is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
