"""One writer per run folder, and a liveness readers can trust (record/owner.py, writer.py, liveness.py).

The writer here is a real second process holding a folder through RunWriter (no torch: it starts in
a fraction of a second); the end-to-end tests in tests/e2e/test_control.py do the same to real runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import RunFinished, RunStarted, StateChanged
from cnn_tui.record.control import acknowledgement, request, send_command
from cnn_tui.record.liveness import REMOTE_STALE_S, RunState, liveness
from cnn_tui.record.owner import HEARTBEAT, OWNER, Owner, release_lock, take_lock, this_process, write_owner
from cnn_tui.record.rundir import EVENTS
from cnn_tui.record.writer import RunWriter

pytestmark = pytest.mark.timeout(60)

HOLDER = """
import os, sys, time
from pathlib import Path
from cnn_tui.record.writer import RunWriter
writer = RunWriter.take(Path(sys.argv[1]), lambda command, origin: print(command, flush=True))
if len(sys.argv) > 2 and os.fork() == 0:  # a forked worker (as a DataLoader's): it inherits the lock
    time.sleep(float(sys.argv[2]))
    os._exit(0)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path):
    """Start a process that holds a run folder as its writer; killed at the end, pass or fail."""
    started: list[subprocess.Popen] = []

    def start(run_dir: Path, worker_s: float | None = None) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        extra = [str(worker_s)] if worker_s is not None else []
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir), *extra], stdout=subprocess.PIPE,
                                text=True, env=env)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _run_dir(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    (run_dir / EVENTS).write_text("")
    return run_dir


def _wait_for(predicate, seconds: float) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_second_writer_is_refused_with_one_line_naming_the_live_one(tmp_path, holder):
    run_dir = _run_dir(tmp_path)
    proc = holder(run_dir)
    with pytest.raises(UsageError) as refused:
        RunWriter.take(run_dir, lambda command, origin: None)
    message = str(refused.value)
    assert "\n" not in message and f"pid {proc.pid}" in message and "being written by" in message
    assert liveness(run_dir).state is RunState.STARTING  # alive, no run_started yet
    proc.send_signal(signal.SIGSTOP)  # Ctrl+Z: alive, but silent
    try:
        stale = time.time() - REMOTE_STALE_S - 1
        _wait_for(lambda: liveness(run_dir).heartbeat_at is not None, 5)
        beat = json.loads((run_dir / HEARTBEAT).read_text())
        (run_dir / HEARTBEAT).write_text(json.dumps({**beat, "t": stale}))
        frozen = liveness(run_dir)
        assert frozen.state is RunState.STARTING and "the process is suspended" in frozen.describe()
    finally:
        proc.send_signal(signal.SIGCONT)


def test_sigkill_shows_as_lost_within_5_s_and_its_lock_never_blocks_the_next_writer(tmp_path, holder):
    run_dir = _run_dir(tmp_path)
    (run_dir / EVENTS).write_text(RunStarted(**_started()).to_json() + "\n")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "last.pt").write_bytes(b"x")
    proc = holder(run_dir)
    _wait_for(lambda: liveness(run_dir).state is RunState.STARTING, 5)
    proc.send_signal(signal.SIGKILL)
    took = _wait_for(lambda: liveness(run_dir).state is RunState.LOST, 5)
    assert took < 5
    lost = liveness(run_dir)
    assert lost.pid == proc.pid and lost.resume_command == f"cnn-tui run --resume {run_dir}"
    assert "lost: the writer" in lost.describe() and "resume with: cnn-tui run --resume" in lost.describe()
    assert (run_dir / ".lock").exists()  # the killed writer's lock file is still there...
    writer = RunWriter.take(run_dir, lambda command, origin: None)  # ...and blocks nothing
    writer.release()


def test_a_killed_writer_whose_workers_still_hold_the_lock_is_lost_and_they_are_waited_for(tmp_path, holder):
    """SIGKILL leaves the writer a zombie (not yet reaped) and its forked workers holding the
    inherited lock for a while: the run is lost at once, and the next writer waits them out."""
    run_dir = _run_dir(tmp_path)
    proc = holder(run_dir, worker_s=3.0)
    proc.send_signal(signal.SIGKILL)
    _wait_for(lambda: liveness(run_dir).state is RunState.LOST, 1.0)
    started = time.monotonic()
    writer = RunWriter.take(run_dir, lambda command, origin: None)
    writer.release()
    assert time.monotonic() - started < 10


def test_a_reused_pid_is_not_the_writer(tmp_path):
    """The lock held (here by this process, as by a dead writer's forked workers) and the recorded
    pid running, but with another start time: a reused pid, not the writer."""
    run_dir = _run_dir(tmp_path)
    fd = take_lock(run_dir)
    try:
        me = this_process()
        write_owner(run_dir, Owner(me.host, me.pid, (me.pid_start or 0) - 3600, me.user, me.uid, time.time()))
        assert liveness(run_dir).state is RunState.LOST
        write_owner(run_dir, me)
        assert liveness(run_dir).state is RunState.STARTING
    finally:
        release_lock(fd)


def test_a_writer_on_another_host_is_judged_by_its_heartbeat(tmp_path):
    run_dir = _run_dir(tmp_path)
    write_owner(run_dir, Owner("gpu-node-7", 1, 1.0, "ann", os.getuid(), time.time()))  # pid 1 runs here: ignored

    def beat(age: float, state: str = "running") -> None:
        (run_dir / HEARTBEAT).write_text(json.dumps({"t": time.time() - age, "pid": 1, "state": state, "step": 9}))

    beat(1)
    here = liveness(run_dir)
    assert (here.state, here.remote, here.host) == (RunState.RUNNING, True, "gpu-node-7")
    assert "on gpu-node-7" in here.describe()
    beat(1, "paused")
    assert liveness(run_dir).state is RunState.PAUSED
    beat(REMOTE_STALE_S + 1)
    gone = liveness(run_dir)
    assert gone.state is RunState.LOST and "has not been heard from" in gone.describe()


def test_finished_counts_by_the_newest_segment(tmp_path):
    run_dir = _run_dir(tmp_path)
    finished = RunFinished(status="interrupted", reason="x", step=5, epoch=1, wall_seconds=1.0, best={}, final={})
    (run_dir / EVENTS).write_text(RunStarted(**_started()).to_json() + "\n" + finished.to_json() + "\n")
    ended = liveness(run_dir)
    assert (ended.state, ended.status, ended.step) == (RunState.FINISHED, "interrupted", 5)
    with open(run_dir / EVENTS, "a") as events:  # resumed, then killed before finishing again
        events.write(RunStarted(**_started(), resumed=True).to_json() + "\n" + '{"v":2,"type":"step","t":1,"st')
    assert liveness(run_dir).state is RunState.RUNNING  # no writer recorded (an old cnn-tui): the file is fresh
    old = time.time() - REMOTE_STALE_S - 1
    os.utime(run_dir / EVENTS, (old, old))
    assert liveness(run_dir).state is RunState.LOST


def test_commands_are_carried_out_in_order_and_answered(tmp_path):
    """Pause and resume sent at once (two dashboards): both carried out, in send order; everyone
    reading the folder sees the one resulting state."""
    run_dir = _run_dir(tmp_path)
    applied: list[str] = []
    writer = RunWriter.take(run_dir, lambda command, origin: applied.append(command))
    try:
        writer.emit(RunStarted(**_started()))
        first = request(run_dir, "pause")
        second = request(run_dir, "resume")
        _wait_for(lambda: acknowledgement(run_dir, second) is not None, 5)
        assert applied == ["pause", "resume"]
        assert "overtaken by a later resume" in (acknowledgement(run_dir, first) or "")
        assert acknowledgement(run_dir, second) == "running at step 0"
        assert liveness(run_dir).state is RunState.RUNNING
        pause = request(run_dir, "pause")
        time.sleep(0.3)
        assert acknowledgement(run_dir, pause) is None  # answered when the loop has paused, not before
        writer.emit(StateChanged(state="paused", step=7))
        _wait_for(lambda: acknowledgement(run_dir, pause) == "paused at step 7", 5)
        _wait_for(lambda: liveness(run_dir).state is RunState.PAUSED, 5)
    finally:
        writer.release()
    assert liveness(run_dir).state is RunState.LOST  # released without a finished event


def test_commands_left_by_a_dead_writer_are_not_carried_out_by_the_next(tmp_path):
    run_dir = _run_dir(tmp_path)
    (run_dir / "commands").mkdir()
    (run_dir / "commands" / "00000000000000000001-1-aaaaaa.cmd").write_text('{"command": "stop"}')
    (run_dir / "commands" / ".x.cmd.123.tmp").write_text('{"comm')  # a sender killed mid-write
    applied: list[str] = []
    writer = RunWriter.take(run_dir, lambda command, origin: applied.append(command))
    try:
        time.sleep(0.3)
        assert applied == [] and list((run_dir / "commands").iterdir()) == []
        (run_dir / "commands" / "nonsense.cmd").write_text("not json")  # and a garbled one is dropped
        request(run_dir, "checkpoint")
        _wait_for(lambda: applied == ["checkpoint"], 5)
        assert list((run_dir / "commands").iterdir()) == []
    finally:
        writer.release()


def test_control_refuses_what_it_cannot_reach_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="no such run directory"):
        send_command(tmp_path / "nothing", "pause")
    with pytest.raises(UsageError, match="not a run directory"):
        send_command(tmp_path, "stop")
    run_dir = _run_dir(tmp_path)
    with pytest.raises(UsageError, match="not a run command"):
        send_command(run_dir, "explode")
    finished = RunFinished(status="completed", reason="x", step=5, epoch=1, wall_seconds=1.0, best={}, final={})
    (run_dir / EVENTS).write_text(finished.to_json() + "\n")
    with pytest.raises(UsageError, match=r"has finished \(completed\); nothing to pause"):
        send_command(run_dir, "pause")


def test_another_users_run_is_refused(tmp_path, holder):
    run_dir = _run_dir(tmp_path)
    holder(run_dir)
    owner = json.loads((run_dir / OWNER).read_text())
    (run_dir / OWNER).write_text(json.dumps({**owner, "uid": os.getuid() + 1, "user": "bob"}))
    with pytest.raises(UsageError, match="belongs to user bob"):
        send_command(run_dir, "stop")

    remote = _run_dir(tmp_path / "remote")  # on another host, one person's uid may differ: the name counts
    (remote / HEARTBEAT).write_text(json.dumps({"t": time.time(), "pid": 7, "state": "running"}))
    write_owner(remote, Owner("gpu-node-7", 7, 1.0, "bob", os.getuid(), time.time()))
    with pytest.raises(UsageError, match="belongs to user bob"):
        request(remote, "stop")
    write_owner(remote, Owner("gpu-node-7", 7, 1.0, this_process().user, os.getuid() + 1, time.time()))
    request(remote, "stop")
    assert len(list((remote / "commands").glob("*.cmd"))) == 1


def _started() -> dict:
    return dict(run_id="r", recipe_name="tiny", kind="scratch", device="cpu", device_name="cpu", total_steps=10,
                model_name="m", layers=[], total_params=1, trainable_params=1, epochs=1, steps_per_epoch=10,
                batch_size=1, num_train=1, num_val=1, num_classes=2, class_names=["a", "b"])
