"""The scratch folders of runs started from the dashboard: a run left training (the dashboard closed,
killed, or its SSH link dropped) keeps its folder while it runs; once it is over, the next run started
from a dashboard removes it. Nothing else in the temporary folder is touched."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cnn_tui.ui import scratch
from cnn_tui.ui.sources import ChildRun

LATER = scratch.SWEEP_AFTER_S + 60  # seconds: past the sweep's wait


def ended_process() -> tuple[int, float]:
    """A real process's pid and start time, after it has exited and been reaped."""
    from cnn_tui.record.owner import process_start

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = process_start(proc.pid)
        assert start is not None
    finally:
        proc.kill()
        proc.wait()
    return proc.pid, start


def left_folder(parent: Path, pid: int, start: float | str, name: str = "cnn-tui-run-abc") -> Path:
    """A folder as a run leaves it: its log, its note and its process record."""
    folder = parent / name
    folder.mkdir(mode=0o700)
    (folder / scratch.LOG).write_text("epoch 1/3 ...\n")
    (folder / scratch.NOTE).write_text(f"{parent / 'runs' / 'r1'}\n")
    (folder / scratch.PROCESS).write_text(f"{pid} {start}\n")
    return folder


def test_the_folder_of_a_run_that_is_over_is_swept(tmp_path):
    folder = left_folder(tmp_path, *ended_process())
    assert scratch.sweep(tmp_path, now=time.time() + LATER) == [folder]
    assert not folder.exists()


def test_a_folder_touched_lately_is_kept_even_if_its_process_is_gone(tmp_path):
    """A dashboard still following it may be about to read the log's last lines."""
    folder = left_folder(tmp_path, *ended_process())
    assert scratch.sweep(tmp_path, now=time.time() + scratch.SWEEP_AFTER_S / 2) == []
    assert (folder / scratch.LOG).is_file()


def test_a_live_runs_folder_is_kept_and_a_reused_pid_is_not_taken_for_it(tmp_path):
    from cnn_tui.record.owner import process_start

    start = process_start(os.getpid())
    assert start is not None
    live = left_folder(tmp_path, os.getpid(), start, "cnn-tui-run-live")
    reused = left_folder(tmp_path, os.getpid(), start - 3600, "cnn-tui-run-reused")  # same pid, another process
    unknown = left_folder(tmp_path, os.getpid(), "", "cnn-tui-run-unknown")  # no start time recorded
    assert scratch.sweep(tmp_path, now=time.time() + LATER) == [reused]
    assert live.is_dir() and unknown.is_dir() and not reused.exists()


def test_only_our_own_folders_holding_only_our_files_are_swept(tmp_path):
    pid, start = ended_process()
    starting = left_folder(tmp_path, pid, start, "cnn-tui-run-starting")
    (starting / scratch.PROCESS).unlink()  # made, its process not recorded yet
    mine = left_folder(tmp_path, pid, start, "cnn-tui-run-mine")
    (mine / "notes.txt").write_text("the user's own")  # something we did not write
    other = left_folder(tmp_path, pid, start, "not-cnn-tui-abc")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = left_folder(elsewhere, pid, start)  # a folder of ours, reached through a link
    link = tmp_path / "cnn-tui-run-link"
    link.symlink_to(target, target_is_directory=True)
    file = tmp_path / "cnn-tui-run-file"
    file.write_text("a file, not a folder")
    killed = left_folder(tmp_path, pid, start, "cnn-tui-run-killed")
    (killed / ".run_dir.ab12cd34.tmp").write_text("/half/a/pa")  # an atomic write killed mid-way: ours
    garbled = left_folder(tmp_path, pid, start, "cnn-tui-run-garbled")
    (garbled / scratch.PROCESS).write_text("not a pid\n")
    group = left_folder(tmp_path, pid, start, "cnn-tui-run-group")
    (group / scratch.PROCESS).write_text("0\n")  # pid 0 is the caller's process group, never a run
    nested = left_folder(tmp_path, pid, start, "cnn-tui-run-nested")
    (nested / scratch.LOG).unlink()
    (nested / scratch.LOG).mkdir()  # a folder where a run writes a file
    (nested / scratch.LOG / "photo.jpg").write_bytes(b"\xff\xd8")
    assert scratch.sweep(tmp_path, now=time.time() + LATER) == [killed]
    for kept in (starting, mine, other, target, file, garbled, group, nested):
        assert kept.exists()
    assert (mine / "notes.txt").read_text() == "the user's own"
    assert link.is_symlink() and (target / scratch.LOG).is_file()


def test_an_unreadable_temporary_folder_sweeps_nothing(tmp_path):
    assert scratch.sweep(tmp_path / "absent", now=time.time() + LATER) == []


@pytest.mark.timeout(120)
def test_a_run_left_training_is_swept_by_the_next_run_once_it_is_over(tmp_path, monkeypatch):
    """The whole path: a dashboard starts a run and goes (the run trains on); a later dashboard starting
    a run keeps the first folder while its run lives and removes it once the run is over."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    class Quick(ChildRun):
        def command(self):
            return [sys.executable, "-c", "import time; time.sleep(60)"]

    first, second = Quick(tmp_path / "x.yaml", tmp_path / "runs"), Quick(tmp_path / "x.yaml", tmp_path / "runs")
    try:
        first.start()  # its dashboard then went without it (SSH dropped): nothing removes its folder
        assert first.scratch is not None and (first.scratch / scratch.PROCESS).is_file()
        assert scratch.sweep(now=time.time() + LATER) == []  # still training: kept
        first.proc.kill()
        first.proc.wait()  # it is over
        for path in first.scratch.iterdir():  # ... long ago
            os.utime(path, (time.time() - LATER, time.time() - LATER))
        second.start()
        assert not first.scratch.exists()
        assert second.scratch is not None and second.scratch.is_dir()
    finally:
        for source in (first, second):
            if source.proc is not None:
                source.proc.kill()
                source.proc.wait()
