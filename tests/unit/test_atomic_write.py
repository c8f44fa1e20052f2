"""The atomic writer on its own: a write that fails half-way leaves the old file whole and no
temporary file beside it, and what it writes gets the mode open() would have given (each test
failed with the guard it names removed)."""

from __future__ import annotations

import os
import stat

import pytest

from cnn_tui.contract.atomic import atomic_write, atomic_write_text


@pytest.mark.parametrize("fsync", [True, False])
def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary(tmp_path, fsync):
    target = tmp_path / "summary.json"
    target.write_text("old and whole")

    def half_then_fail(handle):
        handle.write(b"new but ha")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, half_then_fail, fsync=fsync)
    assert target.read_text() == "old and whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_an_interrupt_during_the_write_cleans_up_too(tmp_path):
    target = tmp_path / "last.pt"

    def interrupted(handle):
        handle.write(b"x" * 1000)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert list(tmp_path.iterdir()) == []


def test_the_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic_write_text(tmp_path / "atomic.txt", "y")
    assert (tmp_path / "atomic.txt").read_text() == "y"
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
