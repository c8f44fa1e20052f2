"""`cnn-tui pause|resume|stop|checkpoint RUN_DIR`: control a live run from a shell or a script.

The command goes through the run folder (record/control.py), so it reaches a run started by
`cnn-tui run`, by a dashboard, under torchrun (rank 0 carries it out, every rank agrees), or on
another host sharing the folder. It waits for the run to act and prints what it did.
"""

from __future__ import annotations

from pathlib import Path

from cnn_tui.contract.errors import UsageError

HELP = {
    "pause": "pause a live run at its next step (the process stays; `cnn-tui resume` goes on)",
    "resume": "resume a paused run",
    "stop": "stop a live run after its current step: it saves last.pt and ends `interrupted`",
    "checkpoint": "save a live run's checkpoints/last.pt at its next step, and go on",
}


def control(command: str, run_dir: Path, wait: float, out=print) -> int:
    """Send `command` to the run in `run_dir`; one line saying the run's new state. Exit 2 (one line)
    for a folder that is not a run, a run that has ended or is lost, or another user's run."""
    from cnn_tui.record.control import send_command  # here: `cnn-tui --help` builds the parser from HELP alone

    if wait < 0:
        raise UsageError(f"--wait: {wait:g} is negative; give seconds to wait for the run (0: do not wait)")
    out(f"{run_dir}: {send_command(run_dir, command, wait_s=wait, origin=f'`cnn-tui {command}`')}")
    return 0
