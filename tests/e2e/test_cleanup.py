"""A failing test leaves no process behind: pytest runs, in a subprocess, a test that starts
`cnn-tui run` twice (one in its own session, as the dashboard starts runs; one orphaned, its
parent shell gone) and a child with an environment of its own (no test id), then fails on purpose.
When that pytest is over, all three must be gone."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import ROOT

FAILING = '''
import os, pathlib, subprocess, sys, time
from tests.conftest import TINY_RECIPE, cnn_tui_cmd

def test_starts_training_and_fails(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(TINY_RECIPE)
    run = cnn_tui_cmd("run", str(recipe), "--epochs", "400", "--quiet", "--out")
    own_session = subprocess.Popen([*run, str(tmp_path / "a")], start_new_session=True)
    shell = subprocess.run(["sh", "-c", " ".join([*run, str(tmp_path / "b")]) + " >/dev/null 2>&1 & echo $!"],
                           capture_output=True, text=True, check=True)
    orphan = int(shell.stdout)
    unmarked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                                env={k: v for k, v in os.environ.items() if k != "CNN_TUI_TEST_ID"})
    pathlib.Path(os.environ["PIDS"]).write_text(f"{own_session.pid} {orphan} {unmarked.pid}")
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("*/*/events.jsonl"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # both are training
    assert False, "fails on purpose, with two runs still training"
'''


@pytest.mark.timeout(240)
def test_a_failing_test_leaves_no_training_process(tmp_path, cli_env):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (tmp_path / "test_failing.py").write_text(FAILING)
    pids_file = tmp_path / "pids"
    env = dict(cli_env, PIDS=str(pids_file), PYTHONPATH=str(ROOT))
    pids: list[int] = []
    try:
        inner = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                                "test_failing.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=200)
        pids = [int(pid) for pid in pids_file.read_text().split()]
        assert inner.returncode == 1 and "fails on purpose" in inner.stdout, inner.stdout[-3000:] + inner.stderr
        assert len(pids) == 3
        time.sleep(0.5)  # a kill that was not sent would show now: the runs train for minutes
        left = [pid for pid in pids if _alive(pid)]
        assert left == [], f"left running after the failed test: {left}"
    finally:
        for pid in pids:
            if _alive(pid):
                psutil.Process(pid).kill()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
