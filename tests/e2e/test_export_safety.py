"""`cnn-tui export` never destroys what it did not write: folders holding anything else are refused
(--force or not) and left as they were; a full disk or a bad path is one line and leaves nothing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from benchmarks.long_run import write_long_run
from cnn_tui.cli import main
from cnn_tui.export.output import MANIFEST
from tests.conftest import TINY_RECIPE

pytestmark = pytest.mark.timeout(120)


def export(capsys, *args: object) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["export", *map(str, args)])
    out, err = capsys.readouterr()
    return code, err


@pytest.fixture
def run(tmp_path) -> Path:
    return write_long_run(tmp_path / "runs" / "long-1", 50)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("force", [False, True])
def test_a_folder_holding_the_users_files_is_refused_and_kept(run, tmp_path, capsys, force):
    target = tmp_path / "Documents"
    target.mkdir()
    (target / "thesis.txt").write_text("three years")
    code, err = export(capsys, run, target, "--to", "csv", *(["--force"] if force else []))
    assert code == 2 and err.count("\n") == 1 and "thesis.txt" in err and "nothing was changed" in err
    assert tree(target) == {"thesis.txt": b"three years"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


@pytest.mark.parametrize("where", ["runs", "the_run", "dot"])
def test_the_folder_of_the_run_itself_is_refused_with_force(run, tmp_path, capsys, monkeypatch, where):
    before = tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    target = {"runs": Path("runs"), "the_run": run, "dot": Path(".")}[where]
    code, err = export(capsys, run, target, "--to", "csv", "--force")
    assert code == 2 and err.count("\n") == 1 and "holds the run being exported" in err
    assert tree(tmp_path) == before


def test_force_replaces_an_earlier_export_but_not_a_file_added_to_it(run, tmp_path, capsys):
    target = tmp_path / "csv"
    assert export(capsys, run, target, "--to", "csv")[0] == 0
    assert (target / MANIFEST).is_file()
    code, err = export(capsys, run, target, "--to", "csv")
    assert code == 2 and "--force" in err
    (target / "steps.csv").write_text("stale")
    assert export(capsys, run, target, "--to", "csv", "--force")[0] == 0
    assert (target / "steps.csv").read_text() != "stale"  # replaced: it was the export's own
    (target / "notes.md").write_text("mine")
    code, err = export(capsys, run, target, "--to", "csv", "--force")
    assert code == 2 and "notes.md" in err
    assert (target / "notes.md").read_text() == "mine" and (target / "steps.csv").is_file()


def test_an_empty_folder_is_used(run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert export(capsys, run, tmp_path / "empty", "--to", "csv")[0] == 0
    assert (tmp_path / "empty" / "steps.csv").is_file()


def test_a_model_export_never_replaces_a_file_it_did_not_write(run, tmp_path, capsys):
    (run / "recipe.yaml").write_text(TINY_RECIPE)
    checkpoint = run / "checkpoints" / "last.pt"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"PK\x03\x04 a checkpoint")
    for target in (checkpoint, tmp_path / "thesis.txt"):
        if not target.exists():
            target.write_text("three years")
        before = target.read_bytes()
        code, err = export(capsys, run, target, "--model", "torchscript", "--force")
        assert code == 2 and err.count("\n") == 1 and str(target) in err
        assert target.read_bytes() == before
    code, err = export(capsys, run, tmp_path, "--model", "onnx", "--force")
    assert code == 2 and "is a folder" in err


@pytest.mark.parametrize("how", ["file_as_folder", "under_a_file"])
def test_bad_export_paths_are_one_line(run, tmp_path, capsys, how):
    (tmp_path / "a_file").write_text("x")
    target = tmp_path / "a_file" if how == "file_as_folder" else tmp_path / "a_file" / "csv"
    code, err = export(capsys, run, target, "--to", "csv", "--force")
    assert code == 2 and err.count("\n") == 1 and "a_file" in err and "not a folder" in err
    assert (tmp_path / "a_file").read_text() == "x"


def test_a_full_disk_during_an_export_is_one_line_and_keeps_the_old_export(run, tmp_path, capsys, monkeypatch):
    import cnn_tui.export.csv_files as csv_files

    target = tmp_path / "csv"
    assert export(capsys, run, target, "--to", "csv")[0] == 0
    before = tree(target)

    def full(self, row):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(csv_files.CsvTable, "add", full)
    code, err = export(capsys, run, target, "--to", "csv", "--force")
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err and str(target) in err
    assert tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "runs"]  # no .partial folder


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs, filled: a real full disk (needs root; skipped where mount is refused)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or os.system(f"mount -t tmpfs -o size=1m tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with open(mount / "filler", "wb") as handle:
            try:
                handle.write(b"\0" * (2 << 20))
            except OSError:
                pass
        yield mount
    finally:
        os.system(f"umount {mount}")


def test_a_real_full_disk(run, tiny_disk, capsys):
    code, err = export(capsys, run, tiny_disk / "csv", "--to", "csv")
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]
