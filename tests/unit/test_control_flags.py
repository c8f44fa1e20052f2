"""RunControl's flags on their own, no run: what the signal handlers, the dashboard's control pipe
and the loops rely on (each test failed with the guard it names removed)."""

from __future__ import annotations

import threading

import pytest

from cnn_tui.train.control import RunControl


@pytest.mark.timeout(20)
def test_a_stop_wakes_a_paused_loop_and_it_does_not_say_running():
    control = RunControl()
    control.pause()
    changes: list[str] = []
    waiting = threading.Thread(target=control.wait_while_paused, args=(changes.append,), daemon=True)
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and changes == ["paused"]  # held
    control.request_stop("test")
    waiting.join(5)
    assert not waiting.is_alive(), "a paused loop must wake up to stop"
    assert changes == ["paused"] and control.stop_requested


def test_the_first_stop_reason_is_kept_and_a_stopped_run_cannot_be_paused():
    control = RunControl()
    control.request_stop("interrupted by SIGINT")
    control.request_stop("stopped from the dashboard")
    assert control.stop_reason == "interrupted by SIGINT"
    control.pause()
    assert not control.paused


@pytest.mark.parametrize("commands, paused, stopped", [
    (["pause"], True, False), (["pause", "resume"], False, False), (["toggle"], True, False),
    (["toggle", "toggle"], False, False), ([" PAUSE \n"], True, False), (["stop"], False, True),
    (["pause", "stop"], False, True), (["nonsense"], False, False)])
def test_control_channel_commands(commands, paused, stopped):
    control = RunControl()
    for command in commands:
        control.handle_command(command)
    assert (control.paused, control.stop_requested) == (paused, stopped)
    if stopped:
        assert control.stop_reason == "stopped from the dashboard"


def test_waiting_while_running_returns_at_once_and_says_nothing():
    changes: list[str] = []
    RunControl().wait_while_paused(changes.append)
    assert changes == []
