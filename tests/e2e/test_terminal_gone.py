"""The dashboard quits when its terminal goes away even though no SIGHUP reaches it (`make
dashboard`: make takes the signal; nohup): it used to stay, reading end-of-file in a loop at 100%
of a core (ui/terminal_watch.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from benchmarks.pty_app import PtyApp
from cnn_tui.ui.terminal_watch import hung_up

# as under nohup: SIGHUP ignored. PtyApp starts it in a session of its own with no controlling
# terminal, so the kernel would send none anyway: only the dashboard's own check can end it.
NO_SIGHUP = ("import runpy, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
             "sys.argv = ['cnn-tui']; runpy.run_module('cnn_tui', run_name='__main__', alter_sys=True)")


@pytest.mark.timeout(120)
def test_the_dashboard_quits_when_its_terminal_closes_without_a_sighup(tmp_path, cli_env):
    app = PtyApp([sys.executable, "-c", NO_SIGHUP], 80, 24, tmp_path, cli_env)
    try:
        app.wait_for("pick a recipe", timeout=60)
        os.close(app.master)  # the terminal window closes
        try:
            app.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cpu = _cpu_seconds(app.proc.pid, 2.0)
            pytest.fail(f"the dashboard was still running 15 s after its terminal closed, using {cpu:.0%} of a core")
    finally:
        app.stop()


def test_a_terminal_whose_other_end_closed_reads_as_hung_up():
    master, slave = os.openpty()
    try:
        assert not hung_up(slave)
        os.close(master)
        assert hung_up(slave)
    finally:
        os.close(slave)
    read, write = os.pipe()  # never a terminal: not "hung up", and nothing to watch
    try:
        assert not hung_up(read)
    finally:
        os.close(read)
        os.close(write)


def _cpu_seconds(pid: int, over: float) -> float:
    def ticks() -> int:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    before = ticks()
    time.sleep(over)
    return (ticks() - before) / os.sysconf("SC_CLK_TCK") / over
