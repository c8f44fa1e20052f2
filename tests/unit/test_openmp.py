"""The spin-wait is chosen before torch loads, only by commands that train, from the other processes'
load, and a user's own GOMP_SPINCOUNT wins (cnn_tui/commands/openmp.py says why;
benchmarks/contention_probe.py measures it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_tui.commands import openmp
from cnn_tui.commands.openmp import SPIN_COUNT, choose_spin_wait, others_load

pytestmark = pytest.mark.timeout(60)

PROBE = """
import os, sys
from cnn_tui import cli
import cnn_tui.commands.{module} as module
def cmd(*a, **k):  # the command runs where torch would be imported: what does it find?
    print(os.environ.get("GOMP_SPINCOUNT"), "torch" in sys.modules)
    return 0
module.{function} = cmd
sys.exit(cli.main({argv!r}))
"""


def _probe(module: str, function: str, argv: list[str], own: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | ({"GOMP_SPINCOUNT": own} if own else {})
    code = PROBE.format(module=module, function=function, argv=argv)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=50)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.fixture
def busy_process():
    """One process that keeps a core busy (in a session of its own, as another user's job would be)."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    try:
        time.sleep(0.3)  # started and spinning
        yield hog
    finally:
        hog.kill()
        hog.wait()


def test_a_run_beside_a_busy_process_limits_the_spin_before_torch_loads(busy_process):
    assert _probe("run", "cmd_run", ["run", "any.yaml"], None) == [SPIN_COUNT, "False"]


@pytest.mark.parametrize("own", ["50000", "300000"])
def test_the_users_own_spin_count_wins_even_beside_a_busy_process(busy_process, own):
    assert _probe("run", "cmd_run", ["run", "any.yaml"], own) == [own, "False"]


def test_a_command_that_does_not_train_neither_samples_nor_sets_it(busy_process):
    assert _probe("listing", "cmd_list", ["list"], None) == ["None", "False"]


def test_the_choice_keeps_libgomps_default_when_the_others_are_quiet_or_unknown():
    for load in (0.0, 0.49, None):
        env: dict[str, str] = {}
        assert choose_spin_wait(env, load) is None and env == {}
    env = {}
    assert choose_spin_wait(env, 0.5) == SPIN_COUNT and env == {"GOMP_SPINCOUNT": SPIN_COUNT}
    env = {"GOMP_SPINCOUNT": "7"}
    assert choose_spin_wait(env, 2.0) == "7" and env == {"GOMP_SPINCOUNT": "7"}


def _write_proc(proc: Path, all_busy: int, own: int, parent: int) -> None:
    # /proc/stat's first line: user nice system idle iowait irq softirq steal guest guest_nice
    (proc / "stat").write_text(f"cpu  {all_busy} 0 0 5000 0 0 0 0 0 0\ncpu0 1 2 3\n")
    for pid, ticks in (("self", own), (str(os.getppid()), parent)):
        (proc / pid).mkdir(exist_ok=True)  # a name with spaces and a ")" in it, as a command may have
        (proc / pid / "stat").write_text(f"42 (odd ) name) R 1 1 1 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0\n")


def test_the_others_load_leaves_this_process_and_its_parent_out(tmp_path, monkeypatch):
    hz = os.sysconf("SC_CLK_TCK")
    _write_proc(tmp_path, 1000, 10, 20)

    def one_window(seconds: float) -> None:  # in the window: the others 1 core, we and the parent 0.5 more
        _write_proc(tmp_path, 1000 + int(1.5 * hz * seconds), 10 + int(0.25 * hz * seconds),
                    20 + int(0.25 * hz * seconds))

    monkeypatch.setattr(openmp.time, "sleep", one_window)
    monkeypatch.setattr(openmp.time, "monotonic", iter([0.0, 0.2]).__next__)
    assert others_load(0.2, tmp_path) == pytest.approx(1.0, abs=0.1)


def test_the_others_load_is_unknown_without_proc(tmp_path):
    assert others_load(0.01, tmp_path / "absent") is None


def test_the_run_says_which_spin_wait_it_trains_with(monkeypatch):
    import torch

    from cnn_tui.train.device import device_name

    monkeypatch.setenv("GOMP_SPINCOUNT", SPIN_COUNT)
    assert device_name(torch.device("cpu")).endswith(f", OpenMP spin-wait {SPIN_COUNT})")
    monkeypatch.delenv("GOMP_SPINCOUNT")
    assert "spin-wait" not in device_name(torch.device("cpu"))
