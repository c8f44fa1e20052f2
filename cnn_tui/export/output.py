"""Where an export lands: only ever a new path, or what an earlier export wrote itself.

A folder export leaves a manifest (MANIFEST) naming the files it wrote. `--force` replaces a
folder only when everything in it is listed there: a folder holding anything else (other runs,
the run being exported, the user's own files, `.`) is refused, --force or not, and nothing in
it is touched. A model file is replaced only when it is an ONNX or TorchScript file, never a
folder and never a file inside the run.

Everything is written under a temporary name beside the target, then renamed into place; the
old export is removed only once the new one is complete, so a failed export (a full disk, a
bad path, Ctrl+C) leaves the old one as it was and no half-written folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from cnn_tui.contract.atomic import DIR_MODE
from cnn_tui.contract.errors import UsageError, write_failed
from cnn_tui.contract.writable import make_folder

MANIFEST = ".cnn-tui-export.json"  # in every exported folder: the files this export wrote
SHOWN = 3  # foreign names quoted in a refusal


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def listed_files(folder: Path) -> set[str] | None:
    """The files an earlier export says it wrote into `folder`; None without a readable manifest."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    return {f for f in files if isinstance(f, str)} if isinstance(files, list) else None


def check_folder_target(target: Path, force: bool, run_dir: Path) -> None:
    """Refuse, with one line, any target whose replacement could lose something not ours."""
    if target.is_symlink():
        raise UsageError(f"{target}: is a link; give a new folder path for the export (links are not replaced)")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: is a file, not a folder; give a new folder path for the export")
    if not target.exists():
        return
    if _inside(run_dir, target):
        raise UsageError(f"{target}: holds the run being exported ({run_dir}); give a new folder for the export")
    entries = sorted(os.listdir(target))
    if not entries:
        return  # an empty folder: nothing in it to lose
    listed = listed_files(target)
    foreign = [name for name in entries if name != MANIFEST and (listed is None or name not in listed
                                                                  or not (target / name).is_file())]
    if foreign:
        shown = ", ".join(foreign[:SHOWN]) + (", ..." if len(foreign) > SHOWN else "")
        raise UsageError(f"{target}: the folder exists and holds files no cnn-tui export wrote ({shown}); "
                         "nothing was changed; choose a new folder (--force replaces only an earlier export)")
    if not force:
        raise UsageError(f"{target}: an earlier export is there; add --force to replace it, or choose another path")


def write_folder(target: Path, force: bool, fill: Callable[[Path], None], run_dir: Path) -> None:
    """`fill(folder)` writes into a fresh temporary folder that then becomes `target`."""
    check_folder_target(target, force, run_dir)
    staging = _staging_beside(target)
    try:
        staging.chmod(DIR_MODE)  # mkdtemp's folders are private; an export is shared like any folder
        fill(staging)
        names = sorted(p.name for p in staging.iterdir())
        (staging / MANIFEST).write_text(json.dumps({"written_by": "cnn-tui export", "run": str(run_dir),
                                                    "files": names}, indent=1) + "\n", encoding="utf-8")
        _swap_in(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_failed(target, exc, "write the export") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _staging_beside(target: Path) -> Path:
    """A fresh hidden folder beside `target` (same filesystem: the rename into place is atomic)."""
    make_folder(target.parent)
    try:
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    except OSError as exc:
        raise write_failed(target.parent, exc, "write in the folder") from None


def is_model_export(path: Path) -> bool:
    """An ONNX file (a protobuf ModelProto: field 1, ir_version, first) or a TorchScript archive
    (a zip with code/ in it; a torch.save checkpoint has none)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
        if head[:1] == b"\x08":
            return True
        if head == b"PK\x03\x04":
            with zipfile.ZipFile(path) as archive:
                return any("/code/" in name for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return False


def check_file_target(target: Path, force: bool, run_dir: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        raise UsageError(f"{target}: is a folder; give a file path for the model")
    if not os.path.lexists(target):
        return
    if _inside(target, run_dir):
        raise UsageError(f"{target}: is a file of the run being exported; write the model somewhere else")
    if not force:
        raise UsageError(f"{target}: the file exists; choose another path, or add --force to replace it")
    if target.is_symlink() or not is_model_export(target):
        raise UsageError(f"{target}: not a model file an export wrote (ONNX or TorchScript); nothing was "
                         "changed; --force replaces only those, choose another path")


def write_file(target: Path, force: bool, fill: Callable[[Path], None], run_dir: Path) -> None:
    """`fill(path)` writes a temporary file beside `target`, which then replaces it."""
    check_file_target(target, force, run_dir)
    staging = _staging_beside(target)
    try:
        path = staging / target.name
        fill(path)
        os.replace(path, target)
    except OSError as exc:
        raise write_failed(target, exc, "write the model") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    """Rename the new export into place; the old one (checked: only files it listed) goes last."""
    if not target.exists() or not any(target.iterdir()):
        os.replace(staging, target)
        return
    listed = listed_files(target) or set()
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".replaced", dir=target.parent))
    os.replace(target, old)  # onto the empty folder just made: atomic, and the name is ours
    os.replace(staging, target)
    for name in listed | {MANIFEST}:  # file by file: anything that appeared meanwhile stays
        try:
            (old / name).unlink()
        except OSError:
            pass
    try:
        old.rmdir()
    except OSError:
        pass
