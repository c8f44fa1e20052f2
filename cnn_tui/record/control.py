"""Control a live run from any process: `cnn-tui pause|resume|stop|checkpoint RUN_DIR`, any dashboard.

A command is a small JSON file written atomically into RUN_DIR/commands/ (see record/writer.py for
why files rather than a socket); the run's writer carries it out within ~0.1 s and answers in
heartbeat.json under the command's id, once the loop has done it ("paused at step 120"). This
module is torch-free: the dashboard imports it.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from cnn_tui.contract.atomic import atomic_write_text
from cnn_tui.contract.errors import UsageError
from cnn_tui.record.liveness import Liveness, RunState, liveness
from cnn_tui.record.owner import COMMANDS as COMMANDS_DIR
from cnn_tui.record.owner import HEARTBEAT, OWNER, Owner, host_name, read_owner, user_name
from cnn_tui.record.rundir import EVENTS

COMMANDS = ("pause", "resume", "stop", "checkpoint")
ACK_POLL_S = 0.05


def request(run_dir: Path, command: str, origin: str | None = None) -> str:
    """Send `command` to the run's writer without waiting; returns the command's id (its answer
    appears in heartbeat.json's "acks" under it). One line (UsageError) where it cannot be sent."""
    if command not in COMMANDS:
        raise UsageError(f"{command!r}: not a run command; use one of {', '.join(COMMANDS)}")
    state = _controllable(run_dir, command)
    cid = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(3)}"
    body = {"command": command, "origin": origin or _me(), "sent_at": time.time(), "seen": state.state.value}
    try:
        atomic_write_text(run_dir / COMMANDS_DIR / f"{cid}.cmd", json.dumps(body) + "\n")
    except OSError as exc:
        raise UsageError(f"{run_dir / COMMANDS_DIR}: cannot send {command} ({exc.strerror})") from None
    return cid


def send_command(run_dir: Path, command: str, wait_s: float = 10.0, origin: str | None = None) -> str:
    """Send `command` and wait for the run to carry it out; a short line saying the run's new state.

    Where no answer comes within `wait_s` (the loop is between steps for long: validating,
    preparing data), says so: the command stays in effect and is carried out at the next step."""
    cid = request(run_dir, command, origin)
    deadline = time.monotonic() + wait_s
    while True:
        line = acknowledgement(run_dir, cid)
        if line is not None:
            return line
        now = liveness(run_dir)
        if not now.live:
            return f"the run ended before answering: {now.describe()}"
        if time.monotonic() >= deadline:
            return (f"{command} sent, not carried out within {wait_s:g} s (the run is {now.state.value}"
                    f"{f' at step {now.step}' if now.step else ''}); it takes effect at the run's next step")
        time.sleep(ACK_POLL_S)


def acknowledgement(run_dir: Path, cid: str) -> str | None:
    """The writer's answer to command `cid`, None while it has none."""
    try:
        beat = json.loads((run_dir / HEARTBEAT).read_text(encoding="utf-8"))
        ack = beat["acks"].get(cid)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return str(ack["line"]) if isinstance(ack, dict) and "line" in ack else None


def _controllable(run_dir: Path, command: str) -> Liveness:
    """The run's liveness where `command` can go to it; one line otherwise."""
    if not (run_dir / EVENTS).is_file() and not (run_dir / OWNER).is_file():  # a starting run has no events yet
        from cnn_tui.record.run_files import check_run_dir  # only here: it imports the recipe schema (~1 s)

        check_run_dir(run_dir)  # the one line that says what is wrong with the folder
    state = liveness(run_dir)
    if state.state is RunState.FINISHED:
        raise UsageError(f"{run_dir}: the run has finished ({state.status or 'ended'}); nothing to {command}"
                         + (f"; go on with: {state.resume_command}" if state.resume_command else ""))
    if state.state is RunState.LOST:
        raise UsageError(f"{run_dir}: cannot {command} a run that is not running: {state.describe()}")
    owner = read_owner(run_dir)
    if owner is not None and not _mine(owner):
        raise UsageError(f"{run_dir}: the run belongs to user {owner.user} (uid {owner.uid}); only they can "
                         f"{command} it")
    return state


def _mine(owner: Owner) -> bool:
    """A run is its owner's to steer (root's too: no one else's): by uid on this host, by user name
    on another (uids of one person may differ between hosts)."""
    return owner.uid == os.getuid() if owner.local else owner.user == user_name()


def _me() -> str:
    return f"{user_name()}@{host_name()} (pid {os.getpid()})"
