"""UI against training scheduling (ui/priority.py): the run the dashboard starts is SCHED_BATCH where
the platform has it, nothing changes (and nothing fails) where it does not, and a setting that is
not one is one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cnn_tui.ui import priority

pytestmark = pytest.mark.timeout(60)
LINUX_BATCH = pytest.mark.skipif(not priority.can_batch(), reason="no SCHED_BATCH on this platform")


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])


@LINUX_BATCH
def test_the_training_child_runs_under_sched_batch_and_its_threads_inherit_it(tmp_path, monkeypatch):
    from cnn_tui.ui.sources import ChildRun

    monkeypatch.delenv(priority.SETTING, raising=False)
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text("kind: scratch\n")  # any recipe: the process is looked at before it reads it
    monkeypatch.setattr(ChildRun, "command", lambda self: [sys.executable, "-c", "import time; time.sleep(30)"])
    source = ChildRun(recipe, tmp_path / "runs")
    source.start()
    try:
        assert os.sched_getscheduler(source.proc.pid) == os.SCHED_BATCH
        assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the dashboard itself is left as it is
    finally:
        source.proc.kill()
        source.proc.wait()


@pytest.mark.parametrize("setting", ["off", "nice"])
@LINUX_BATCH
def test_other_settings_leave_the_child_as_it_is(monkeypatch, setting):
    monkeypatch.setenv(priority.SETTING, setting)
    child = _sleeper()
    try:
        assert priority.for_training_child(child.pid) == "unchanged"
        assert os.sched_getscheduler(child.pid) == os.SCHED_OTHER
    finally:
        child.kill()
        child.wait()


def test_without_sched_batch_as_on_macos_nothing_changes_and_nothing_fails(monkeypatch):
    monkeypatch.delenv(priority.SETTING, raising=False)
    monkeypatch.delattr(os, "SCHED_BATCH", raising=False)
    monkeypatch.delattr(os, "sched_setscheduler", raising=False)
    assert not priority.can_batch()
    assert priority.for_training_child(os.getpid()).startswith("unchanged: no SCHED_BATCH")


def test_a_child_that_is_gone_is_no_error(monkeypatch):
    monkeypatch.delenv(priority.SETTING, raising=False)
    child = _sleeper()
    child.kill()
    child.wait()
    assert priority.for_training_child(child.pid).startswith("unchanged")


def test_nice_lowers_only_the_dashboards_own_weight(monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(os, "nice", lambda n: asked.append(n) or n)
    monkeypatch.setenv(priority.SETTING, "nice")
    assert priority.for_dashboard() == f"nice +{priority.DASHBOARD_NICE}" and asked == [priority.DASHBOARD_NICE]
    for other in ("batch", "off"):
        monkeypatch.setenv(priority.SETTING, other)
        assert priority.for_dashboard() == "unchanged"
    assert asked == [priority.DASHBOARD_NICE]


def test_a_setting_that_is_not_one_is_one_line_and_exit_2(monkeypatch, capsys):
    from cnn_tui.cli import main
    from cnn_tui.ui.app import CnnTuiApp

    started: list = []
    monkeypatch.setattr(CnnTuiApp, "run", lambda self, *a, **k: started.append(self))
    monkeypatch.setattr("cnn_tui.ui.picture_mode.detect_mode", lambda: "halfblock")
    monkeypatch.setenv(priority.SETTING, "realtime")
    assert main([]) == 2
    assert capsys.readouterr().err == "cnn-tui: error: CNN_TUI_PRIORITY='realtime': expected one of batch, nice, off\n"
    assert started == []
    monkeypatch.setenv(priority.SETTING, " Batch ")
    assert main([]) == 0 and len(started) == 1


def test_the_dashboard_hands_the_gil_over_every_millisecond_and_restores_it(monkeypatch):
    """Its writer thread sends a finished frame at once, not after Python's 5 ms switch interval."""
    from cnn_tui.cli import main
    from cnn_tui.ui.app import CnnTuiApp

    before = sys.getswitchinterval()
    seen: list[float] = []
    monkeypatch.setattr(CnnTuiApp, "run", lambda self, *a, **k: seen.append(sys.getswitchinterval()))
    monkeypatch.setattr("cnn_tui.ui.picture_mode.detect_mode", lambda: "halfblock")
    assert main([]) == 0
    assert seen == [pytest.approx(priority.GIL_SWITCH_SECONDS)] and priority.GIL_SWITCH_SECONDS <= 0.001
    assert sys.getswitchinterval() == pytest.approx(before)
