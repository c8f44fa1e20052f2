"""A run started from the dashboard outlives the dashboard's terminal: in tmux, start a recipe from the
picker, kill the tmux session (the dashboard gets SIGHUP, as when an SSH connection drops), and the run
trains to completion on its own."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TINY_RECIPE

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def tmux(socket: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("stop_on_exit", [False, True], ids=["default", "stop-on-exit"])
def test_killing_the_dashboards_terminal_leaves_the_run_training_to_the_end(tmp_path, cli_env, stop_on_exit):
    """... unless the dashboard was started with --stop-on-exit: then the hangup stops it, saved."""
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "tiny.yaml").write_text(TINY_RECIPE.replace("epochs: 3", "epochs: 30"))
    runs = tmp_path / "runs"
    socket = f"cnn-tui-test-{os.getpid()}"
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in cli_env.items() if k in ("PYTHONPATH", "HOME", "PATH"))
    command = f"cd {shlex.quote(str(tmp_path))} && exec env {env} TERM=xterm-256color " \
              f"{shlex.quote(sys.executable)} -m cnn_tui --recipes {shlex.quote(str(recipes))}" + \
              (" --stop-on-exit" if stop_on_exit else "")
    writer: int | None = None
    try:
        assert tmux(socket, "new-session", "-d", "-s", "t", "-x", "120", "-y", "40", command).returncode == 0
        screen = lambda: tmux(socket, "capture-pane", "-p", "-t", "t").stdout  # noqa: E731
        wait_for(lambda: "pick a recipe" in screen(), 60, "the picker")  # tiny is found by the filter below
        tmux(socket, "send-keys", "-t", "t", "/")
        wait_for(lambda: "▔▔▔" in screen(), 10, "the filter box")  # keys typed before it opens are the picker's
        tmux(socket, "send-keys", "-t", "t", "tiny")
        wait_for(lambda: "tiny  (recipes)" in screen() and "scratch_cnn" not in screen(), 10, "the filter")
        tmux(socket, "send-keys", "-t", "t", "Enter")
        wait_for(lambda: list(runs.glob("*/owner.json")) and "epoch" in screen(), 120, "the run on screen")
        (run_dir,) = runs.iterdir()
        writer = json.loads((run_dir / "owner.json").read_text())["pid"]
        dashboard = int(tmux(socket, "display-message", "-p", "-t", "t", "#{pane_pid}").stdout.strip())
        assert writer != dashboard
        assert tmux(socket, "kill-session", "-t", "t").returncode == 0  # SIGHUP to the dashboard
        summary = run_dir / "summary.json"
        if stop_on_exit:
            wait_for(summary.is_file, 30, "the run to stop")
            assert json.loads(summary.read_text())["status"] == "interrupted"
            assert (run_dir / "checkpoints" / "last.pt").is_file()
            return
        wait_for(lambda: not _alive(dashboard), 10, "the dashboard to go")
        assert _alive(writer), "the run died with its dashboard"
        wait_for(summary.is_file, 240, "the run to finish on its own")
        assert json.loads(summary.read_text())["status"] == "completed"
    finally:
        tmux(socket, "kill-server")
        if writer is not None and _alive(writer):
            os.kill(writer, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
