"""A run's writes under faults: a full disk (events, summary, start), bad --out/--events paths,
a torn events.jsonl resumed on a fresh line, stale temp files of killed saves cleaned up."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from cnn_tui.contract.errors import WriteError
from cnn_tui.contract.wire_reader import parse_lines
from cnn_tui.record import rundir
from cnn_tui.train.checkpoint import load_checkpoint
from tests.e2e.test_cli import run_here
from tests.helpers import of_type, run_collect

pytestmark = pytest.mark.timeout(120)
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def main_here(capsys, *args: str) -> tuple[int, str]:
    """`cnn-tui ARGS` in this process (signal handlers restored after): its code and stderr."""
    result = run_here(capsys, *args)
    return result.returncode, result.stderr


def test_a_full_disk_while_writing_events_fails_the_run_with_one_reason(load_tiny, tmp_path, monkeypatch):
    real_init = rundir.RunDirSink.__init__

    class FullAfter:
        """A file that takes 20 lines, then reports a full disk."""

        def __init__(self, stream):
            self.stream, self.lines, self.name = stream, 0, stream.name

        def write(self, text):
            self.lines += 1
            if self.lines > 20:
                raise ENOSPC
            return self.stream.write(text)

        def flush(self):
            self.stream.flush()

        def close(self):
            self.stream.close()

    def init(self, run_dir):
        real_init(self, run_dir)
        self.stream = FullAfter(self.stream)

    monkeypatch.setattr(rundir.RunDirSink, "__init__", init)
    result, events = run_collect(load_tiny("train.epochs=30"), tmp_path)
    assert result.status == "failed" and result.exit_code == 1
    reason = of_type(events, "finished")[0].reason
    assert reason == f"{result.run_dir / 'events.jsonl'}: could not write events (No space left on device)"
    assert not [e for e in of_type(events, "log") if "Traceback" in e.message]
    assert of_type(events, "epoch_end") == []  # stopped at once, not 30 epochs later
    summary = rundir.read_summary(result.run_dir)
    assert summary["status"] == "failed" and summary["reason"] == reason


def test_a_summary_the_disk_cannot_take_is_one_line_and_exit_1(load_tiny, tmp_path, monkeypatch):
    def full(run_dir, summary):
        raise ENOSPC

    monkeypatch.setattr(rundir, "write_summary", full)
    result, events = run_collect(load_tiny("train.epochs=1"), tmp_path)
    assert result.exit_code == 1
    errors = [e.message for e in of_type(events, "log") if e.level == "error"]
    assert errors == [f"{result.run_dir / 'summary.json'}: could not write the summary (No space left on device)"]


def test_a_run_folder_is_never_left_half_made(tmp_path, monkeypatch):
    import cnn_tui.record.rundir as module

    def full(data, path):
        Path(path).write_text("")  # the 0-byte recipe.yaml of a full disk
        raise ENOSPC

    monkeypatch.setattr(module, "dump_yaml", full)
    with pytest.raises(WriteError) as caught:
        rundir.create_run_dir(tmp_path / "runs", "tiny", {"name": "tiny"})
    assert caught.value.exit_code == 1 and "No space left on device" in str(caught.value)
    assert list((tmp_path / "runs").iterdir()) == []  # no run folder, no hidden staging folder


def test_a_new_run_folder_has_its_recipe_from_the_start(tmp_path):
    run_dir = rundir.create_run_dir(tmp_path, "tiny", {"name": "tiny", "seed": 3})
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoints", "recipe.yaml"]
    assert "seed: 3" in (run_dir / "recipe.yaml").read_text()
    assert [p.name for p in tmp_path.iterdir()] == [run_dir.name]


@pytest.mark.parametrize("how", ["out_is_a_file", "out_under_a_file", "events_in_a_missing_folder",
                                 "events_is_a_folder"])
def test_bad_paths_are_one_line_before_anything_starts(how, tiny_recipe_path, tmp_path, capsys, monkeypatch):
    import cnn_tui.train.kind as scratch_kind

    def too_late(*args, **kwargs):
        raise AssertionError("the data was prepared before the bad path was found")

    monkeypatch.setattr(scratch_kind, "load_data", too_late)
    (tmp_path / "a_file").write_text("x")
    extra = {"out_is_a_file": ["--out", str(tmp_path / "a_file")],
             "out_under_a_file": ["--out", str(tmp_path / "a_file" / "runs")],
             "events_in_a_missing_folder": ["--out", str(tmp_path / "runs"), "--events", str(tmp_path / "no" / "e")],
             "events_is_a_folder": ["--out", str(tmp_path / "runs"), "--events", str(tmp_path)]}[how]
    code, err = main_here(capsys, "run", str(tiny_recipe_path), *extra)
    assert code == 2 and err.count("\n") == 1 and err.startswith("cnn-tui: error: ")
    assert ("not a folder" in err) if how.startswith("out") else ("--events" in err)
    assert not (tmp_path / "runs").exists() and (tmp_path / "a_file").read_text() == "x"


@pytest.fixture
def stopped_run(load_tiny, tmp_path) -> Path:
    from cnn_tui.train.control import RunControl
    from tests.helpers import stop_at

    control = RunControl()
    result, _ = run_collect(load_tiny(), tmp_path / "runs", control=control, on_event=stop_at(4, control))
    assert result.status == "interrupted"
    return result.run_dir


def test_a_resumed_run_starts_its_events_on_a_fresh_line(stopped_run, load_tiny):
    with open(stopped_run / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"v":2,"type":"st')  # killed mid-line
    result, _ = run_collect(load_tiny(), stopped_run.parent, resume=stopped_run)
    assert result.status == "completed"
    lines = (stopped_run / "events.jsonl").read_text().splitlines()
    torn = [i for i, line in enumerate(lines) if line == '{"v":2,"type":"st']
    assert len(torn) == 1  # its own line: the next event was not glued onto it
    with open(stopped_run / "events.jsonl", encoding="utf-8") as handle:
        assert [e.type for e in parse_lines(handle)].count("run_started") == 2


def test_stale_temp_files_of_the_atomic_writer_are_removed_on_resume(stopped_run, load_tiny):
    checkpoints = stopped_run / "checkpoints"
    stale = [checkpoints / ".last.pt.k3x_9q2a.tmp", stopped_run / ".summary.json.abcdefgh.tmp"]
    kept = [checkpoints / "notes.tmp", checkpoints / ".last.pt.tmp", stopped_run / "mine.x.tmp"]
    for path in stale + kept:
        path.write_bytes(b"\0" * 1000)
    result, _ = run_collect(load_tiny(), stopped_run.parent, resume=stopped_run)
    assert result.status == "completed"
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if p.exists()] == kept
    assert load_checkpoint(checkpoints / "last.pt")["position"]["epoch"] == 3


@pytest.fixture
def tiny_disk(tmp_path):
    """A 300 KiB tmpfs (needs root; skipped where mount is refused): room to start, not to finish."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or os.system(f"mount -t tmpfs -o size=300k tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        os.system(f"umount {mount}")


@pytest.mark.timeout(200)
def test_a_real_full_disk_during_training(tiny_recipe_path, tiny_disk, cli_env):
    from tests.conftest import cnn_tui_cmd

    proc = subprocess.run(cnn_tui_cmd("run", str(tiny_recipe_path), "--out", str(tiny_disk), "--epochs", "50"),
                          capture_output=True, text=True, env=cli_env, timeout=180)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and "No space left on device" in proc.stdout
    (run_dir,) = tiny_disk.iterdir()
    assert not list(run_dir.rglob("*.tmp"))
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else None
    if summary is not None:  # written where the disk still took it
        assert summary["status"] == "failed" and "No space left on device" in summary["reason"]
    if (run_dir / "checkpoints" / "last.pt").exists():
        load_checkpoint(run_dir / "checkpoints" / "last.pt")  # the last complete one, never torn


def test_a_read_only_out_is_one_line_before_anything_starts(tiny_recipe_path, tmp_path, capsys, monkeypatch):
    import cnn_tui.train.kind as scratch_kind

    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() != 0 or os.system(f"mount -t tmpfs -o size=100k,ro tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here")
    monkeypatch.setattr(scratch_kind, "load_data", lambda *a, **k: pytest.fail("prepared before the check"))
    try:
        code, err = main_here(capsys, "run", str(tiny_recipe_path), "--out", str(mount / "runs" / "deeper"))
    finally:
        os.system(f"umount {mount}")
    assert code == 2 and err == f"cnn-tui: error: --out {mount / 'runs' / 'deeper'}: cannot write there " \
                                 "(Read-only file system)\n"


def test_a_shared_cache_folder_loses_only_old_temps_of_the_atomic_writer(tmp_path):
    from cnn_tui.contract.atomic import STALE_SECONDS, remove_stale_temps

    old, fresh = tmp_path / ".abc.pt.a1b2c3d4.tmp", tmp_path / ".abc.pt.zz99yy88.tmp"
    others = [tmp_path / "abc.pt", tmp_path / "x.tmp", tmp_path / ".abc.pt.tmp"]
    for path in [old, fresh, *others]:
        path.write_bytes(b"\0")
    hour_ago = time.time() - STALE_SECONDS - 60
    for path in [old, *others]:
        os.utime(path, (hour_ago, hour_ago))
    assert remove_stale_temps(tmp_path, older_than=STALE_SECONDS) == [old.name]
    assert fresh.exists() and all(p.exists() for p in others)  # another run may be writing `fresh` now


def test_events_jsonl_deleted_mid_run_is_noticed(tmp_path, monkeypatch):
    from cnn_tui.contract.events import Log

    sink = rundir.RunDirSink(tmp_path)
    monkeypatch.setattr(sink, "CHECK_SECONDS", 0.0)
    sink.emit(Log(level="info", message="one"))
    (tmp_path / "events.jsonl").unlink()  # the run folder removed by hand while the run goes on
    with pytest.raises(WriteError) as caught:
        sink.emit(Log(level="info", message="two"))
    assert str(caught.value) == f"{tmp_path / 'events.jsonl'}: could not write events (deleted while the run " \
                                "was writing it)" and caught.value.exit_code == 2
    sink.emit(Log(level="info", message="three"))  # said once: the run ends without a cascade
    sink.close()


def test_a_second_ctrl_c_before_the_first_step_still_ends_with_a_summary(load_tiny, tmp_path, monkeypatch):
    import cnn_tui.train.kind as scratch_kind
    from cnn_tui.engine.stopping import QUIT_REASON, QuitNow

    def quit_now(*args, **kwargs):
        raise QuitNow(QUIT_REASON)  # what the handler raises: the second press, while the model is set up

    monkeypatch.setattr(scratch_kind, "Trainer", quit_now)
    try:
        result, events = run_collect(load_tiny(), tmp_path)
    except KeyboardInterrupt:  # not pytest's own: it would end the session as if the tester pressed it
        pytest.fail("the second Ctrl+C left the runner without a summary")
    assert result.status == "interrupted" and result.exit_code == 130
    summary = rundir.read_summary(result.run_dir)
    assert summary["status"] == "interrupted"
    assert summary["reason"] == f"{QUIT_REASON}; no checkpoint had been saved yet"
    assert of_type(events, "finished")[0].reason == summary["reason"]
