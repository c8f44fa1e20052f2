"""Labels from file names (`data.label_from: filename`): Kaggle's dogs-vs-cats archive has no class
folders, only `train/cat.0.jpg ... train/dog.12499.jpg`; the class is the part of the name before
its first dot. The folders are read with the same walker as class folders (debris, links, loops and
special files skipped alike); names that do not hold a class are refused, naming a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from cnn_tui.contract.errors import DataError
from cnn_tui.data.layout import (
    FolderLayout,
    FolderSplit,
    _check_same_classes,
    _field,
    _listing,
    _split_dirs,
    is_image_name,
)
from cnn_tui.data.walk import Walker

EXAMPLE = "cat.0.jpg, dog.0.jpg"


def class_of(name: str) -> str | None:
    """"cat.0.jpg" -> "cat"; None where the name has no dot before its extension ("1.jpg")."""
    stem = name[:name.rfind(".")] if "." in name else name
    head, dot, _ = stem.partition(".")
    return head if dot and head else None


def named_layout(walker: Walker, data) -> FolderLayout | None:
    """The layout read from file names: data.path itself, its split folders (train/ ...), or the
    data.train_path/val_path/test_path folders. With label_from auto, None where a folder to read
    has sub-folders (then they are class folders)."""
    if data.train_path:
        origin = "paths"
        folders = {split: Path(p) for split, p in (("train", data.train_path), ("val", data.val_path),
                                                   ("test", data.test_path)) if p}
    else:
        root = Path(data.path)
        splits = _split_dirs(walker, root)
        origin = "split folders" if splits["train"] else "flat"
        folders = {split: dirs[0] for split, dirs in splits.items() if dirs} if splits["train"] else {"train": root}
    subfolders = {split: [e.name for e in _listing(walker, folder, _field(origin, split)).others if e.kind == "dir"]
                  for split, folder in folders.items()}
    if data.label_from == "auto" and any(subfolders.values()):
        return None
    per_split = {}
    for split, folder in folders.items():
        field = _field(origin, split)
        if subfolders[split]:
            shown = ", ".join(f"{n}/" for n in subfolders[split][:3])
            raise DataError(f"{field}: {folder} has sub-folders ({shown}) and data.label_from is filename, which "
                            f"reads the images directly in the folder ({EXAMPLE}); for class folders use "
                            "label_from: folder (or auto)")
        per_split[split] = _read(walker, folder, field)
    classes = sorted(per_split["train"])
    _check_same_classes(per_split, folders, origin)
    index = {name: i for i, name in enumerate(classes)}
    made = {split: FolderSplit(folders[split], [f for c in classes for f in files[c]],
                               [index[c] for c in classes for _ in files[c]]) for split, files in per_split.items()}
    root = folders["train"].parent if origin != "flat" else folders["train"]
    used = {str(folder) for folder in folders.values()}
    ignored = sorted(e.name + "/" for e in _listing(walker, root, "data.path").others
                     if e.kind == "dir" and e.path not in used) if origin == "split folders" else []
    return FolderLayout(origin, root, classes, made["train"], made.get("val"), made.get("test"), ignored,
                        skipped=walker.skips, by_name=True)


def _read(walker: Walker, folder: Path, field: str) -> dict[str, list[str]]:
    """{class: files} of the images directly in `folder`, the class from each name."""
    walker.claim_path(str(folder))
    (found,) = walker.walk([str(folder)], is_image_name)
    if not found.files:
        raise DataError(f"{field}: {folder} has no images (.jpg, .jpeg, .png, ...) named like {EXAMPLE}")
    by_class: dict[str, list[str]] = {}
    for path in found.files:
        name = class_of(os.path.basename(path))
        if name is None:
            raise DataError(f"data.label_from: filename takes the class from the name before its first dot "
                            f"({EXAMPLE}); {path} has none: rename the files or sort them into class folders "
                            "(label_from: folder)")
        by_class.setdefault(name, []).append(path)
    if len(by_class) < 2:
        ((name, files),) = by_class.items()
        raise DataError(f"data.label_from: the file names in {folder} give one class only ('{name}', "
                        f"{len(files):,} images, e.g. {files[0]}); a classifier needs at least 2")
    if len(by_class) > len(found.files) // 2:
        shown = ", ".join(os.path.basename(files[0]) for files in list(by_class.values())[:2])
        raise DataError(f"data.label_from: the file names in {folder} do not hold classes: {len(by_class):,} "
                        f"classes from {len(found.files):,} images (e.g. {shown}); filename needs names "
                        f"like {EXAMPLE}")
    return by_class
