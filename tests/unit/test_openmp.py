"""The spin-wait limit is in force before torch loads, in every cnn-tui process, and a user's own
GOMP_SPINCOUNT wins (cnn_tui/commands/openmp.py says why; benchmarks/contention_probe.py measures it)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cnn_tui.commands.openmp import SPIN_COUNT, limit_spin_wait

pytestmark = pytest.mark.timeout(60)

PROBE = """
import os, sys
from cnn_tui import cli
import cnn_tui.commands.listing as listing
def cmd_list(*a, **k):  # the command runs where torch would be imported: what does it find?
    print(os.environ.get("GOMP_SPINCOUNT"), "torch" in sys.modules)
    return 0
listing.cmd_list = cmd_list
sys.exit(cli.main(["list"]))
"""


@pytest.mark.parametrize("own, expected", [(None, SPIN_COUNT), ("50000", "50000")])
def test_a_command_finds_the_spin_wait_limited_before_torch_loads(own, expected):
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | ({"GOMP_SPINCOUNT": own} if own else {})
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=50)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected, "False"]


def test_limit_spin_wait_keeps_a_value_already_set():
    env = {"GOMP_SPINCOUNT": "7"}
    assert limit_spin_wait(env) == "7" and env == {"GOMP_SPINCOUNT": "7"}
    assert limit_spin_wait({}) == SPIN_COUNT
