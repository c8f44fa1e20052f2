"""Live runs controlled from another shell: real `cnn-tui run` processes, `cnn-tui pause|resume|stop`,
SIGKILL, a second writer, and `--resume --set` (issues 25 and 26)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from cnn_tui.record.liveness import RunState, liveness
from cnn_tui.record.rundir import EVENTS
from tests.conftest import TINY_RECIPE, cnn_tui_cmd, files_in

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def runs(tmp_path: Path, cli_env):
    """Start `cnn-tui run` processes of a tiny recipe that would train for long (`extra`: more options),
    or `cnn-tui run ARGS`; each is killed at the end with every process under it, pass or fail (ranks
    and loader workers included)."""
    recipe = tmp_path / "long.yaml"
    recipe.write_text(TINY_RECIPE.replace("epochs: 3", "epochs: 500"))
    started: list[subprocess.Popen] = []

    def start(*args: str, extra: tuple[str, ...] = ()) -> subprocess.Popen:
        command = cnn_tui_cmd("run", *(args or (str(recipe), "--out", str(tmp_path / "runs"), *extra)), "--quiet")
        proc = subprocess.Popen(command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        try:  # torchrun starts each rank in a session of its own: its children are found by parentage
            family = [proc.pid] + [child.pid for child in psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=30)


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(cnn_tui_cmd(*args), env=env, capture_output=True, text=True, timeout=120)


def wait_for(predicate, seconds: float, what: str):
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.05)


def the_run(out: Path, proc: subprocess.Popen) -> Path:
    """The run folder, once its writer is training."""

    def found() -> Path | None:
        assert proc.poll() is None, proc.communicate()
        folders = files_in(out, "*/owner.json")
        if folders and liveness(folders[0].parent).state is RunState.RUNNING:
            return folders[0].parent
        return None

    return wait_for(found, 120, "the run starts training")


def steps_written(run_dir: Path) -> int:
    """The newest step the loop has logged (events.jsonl)."""
    newest = 0
    for line in (run_dir / EVENTS).read_text().splitlines():
        if '"type":"step"' in line:
            newest = json.loads(line)["step"]
    return newest


def test_pause_holds_the_step_resume_goes_on_and_stop_ends_interrupted_with_a_checkpoint(runs, tmp_path, cli_env):
    proc = runs()
    run_dir = the_run(tmp_path / "runs", proc)
    paused = cli("pause", str(run_dir), env=cli_env)
    assert paused.returncode == 0 and "paused at step" in paused.stdout, paused.stderr
    assert liveness(run_dir).state is RunState.PAUSED
    held, size = steps_written(run_dir), (run_dir / EVENTS).stat().st_size
    time.sleep(1.5)
    assert steps_written(run_dir) == held and (run_dir / EVENTS).stat().st_size == size  # nothing trains
    resumed = cli("resume", str(run_dir), env=cli_env)
    assert resumed.returncode == 0 and "running at step" in resumed.stdout
    wait_for(lambda: steps_written(run_dir) > held, 60, "the steps go on after resume")
    stopped = cli("stop", str(run_dir), env=cli_env)
    assert stopped.returncode == 0 and "stopped: interrupted at step" in stopped.stdout, stopped.stdout
    assert proc.wait(timeout=60) == 130
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "cnn-tui stop" in summary["reason"]
    assert "; checkpoint checkpoints/last.pt (step" in stopped.stdout and (run_dir / "checkpoints/last.pt").is_file()
    again = cli("stop", str(run_dir), env=cli_env)  # a command to a run that has ended
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.count("\n") == 1 and "has finished (interrupted); nothing to stop" in again.stderr


def test_a_sigkilled_run_is_lost_within_5_s_and_its_resume_is_not_blocked_but_a_second_writer_is(
        runs, tmp_path, cli_env):
    proc = runs()
    run_dir = the_run(tmp_path / "runs", proc)
    wait_for(lambda: (run_dir / "checkpoints/last.pt").is_file(), 60, "the first epoch's checkpoint")
    proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: liveness(run_dir).state is RunState.LOST, 5, "lost after SIGKILL")
    assert time.monotonic() - killed < 5
    shown = " ".join(cli("show", str(run_dir), env=cli_env).stdout.split())  # the status line wraps at the width
    assert "lost: the writer (pid" in shown and f"resume with: cnn-tui run --resume {run_dir}" in shown
    as_json = json.loads(cli("show", str(run_dir), "--json", env=cli_env).stdout)["runs"][0]
    assert as_json["state"] == "lost" and as_json["resume_command"] == f"cnn-tui run --resume {run_dir}"
    refused = cli("pause", str(run_dir), env=cli_env)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "not running: lost" in refused.stderr
    resumed = runs("--resume", str(run_dir))  # the dead writer's .lock is still there: no matter
    wait_for(lambda: liveness(run_dir).pid == resumed.pid and liveness(run_dir).state is RunState.RUNNING, 120,
             "the resumed run trains")
    second = cli("run", "--resume", str(run_dir), env=cli_env)
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    assert f"being written by pid {resumed.pid} on" in second.stderr
    assert cli("stop", str(run_dir), env=cli_env).returncode == 0
    assert resumed.wait(timeout=60) == 130


def test_opposite_commands_at_once_leave_one_state_that_everyone_sees(runs, tmp_path, cli_env):
    proc = runs()
    run_dir = the_run(tmp_path / "runs", proc)
    answers: dict[str, subprocess.CompletedProcess] = {}
    threads = [threading.Thread(target=lambda c=c: answers.__setitem__(c, cli(c, str(run_dir), env=cli_env)))
               for c in ("pause", "resume")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.returncode == 0 and a.stdout for a in answers.values()), answers
    time.sleep(0.5)
    state = liveness(run_dir).state
    before = steps_written(run_dir)
    time.sleep(2.0)
    advancing = steps_written(run_dir) > before
    assert (state, advancing) in ((RunState.PAUSED, False), (RunState.RUNNING, True))  # the folder says what is
    assert cli("stop", str(run_dir), env=cli_env).returncode == 0
    assert proc.wait(timeout=60) == 130


def test_resume_with_a_changed_recipe_is_refused_unless_allowed_and_then_recorded(tmp_path, cli_env, tiny_recipe_path):
    out = tmp_path / "runs"
    first = cli("run", str(tiny_recipe_path), "--out", str(out), "--quiet", "--epochs", "1", env=cli_env)
    assert first.returncode == 0, first.stderr
    run_dir = next(out.iterdir())
    recipe_before = (run_dir / "recipe.yaml").read_text()
    refused = cli("run", "--resume", str(run_dir), "--set", "train.batch_size=8", "--epochs", "2", env=cli_env)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "train.batch_size 16 -> 8" in refused.stderr and "train.epochs 1 -> 2" in refused.stderr
    assert "--allow-changes" in refused.stderr and (run_dir / "recipe.yaml").read_text() == recipe_before
    free = cli("run", "--resume", str(run_dir), "--device", "cpu", "--set", "device=cpu", "--quiet", env=cli_env)
    assert free.returncode == 0, free.stderr  # where it runs is not a change of recipe
    allowed = cli("run", "--resume", str(run_dir), "--epochs", "2", "--allow-changes", "--quiet", env=cli_env)
    assert allowed.returncode == 0, allowed.stderr
    assert "epochs: 2" in (run_dir / "recipe.yaml").read_text()
    logged = [json.loads(line) for line in (run_dir / EVENTS).read_text().splitlines() if '"type":"log"' in line]
    assert any("train.epochs 1 -> 2" in e["message"] and "--allow-changes" in e["message"] for e in logged)
    assert json.loads((run_dir / "summary.json").read_text())["epochs_completed"] == 2


def test_a_data_parallel_run_is_controlled_through_rank_0(runs, tmp_path, cli_env):
    """Rank 0 takes the command; every rank agrees on it at the same step (a checkpoint gathers
    every rank's state: a rank left out would hang the run)."""
    proc = runs(extra=("--nproc", "2", "--set", "data.shapes.num_train=960"))
    run_dir = the_run(tmp_path / "runs", proc)
    saved = cli("checkpoint", str(run_dir), env=cli_env)
    assert saved.returncode == 0 and "checkpoint saved: checkpoints/last.pt (step" in saved.stdout, saved.stdout
    assert '"reason":"requested"' in (run_dir / EVENTS).read_text()
    paused = cli("pause", str(run_dir), env=cli_env)
    assert paused.returncode == 0 and "paused at step" in paused.stdout, paused.stdout
    held = steps_written(run_dir)
    time.sleep(1.5)
    assert steps_written(run_dir) == held
    stopped = cli("stop", str(run_dir), env=cli_env)
    assert stopped.returncode == 0 and "stopped: interrupted" in stopped.stdout, stopped.stdout
    assert proc.wait(timeout=90) == 130
