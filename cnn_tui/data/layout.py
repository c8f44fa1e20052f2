"""Where an image_folder's splits come from, found by scanning names only (nothing decoded).

Three layouts, in the order they are recognised:
- explicit folders: `data.train_path` (+ `val_path`, + `test_path`);
- split folders under `data.path`: `train/` plus `val/` (or valid/, validation/, ...) and
  optionally `test/`, each holding one folder per class (the course's cats-vs-dogs layout,
  the PyTorch tutorial's hymenoptera_data, ImageNet);
- a flat root of class folders, split by `val_split` (and `test_split`).
A root whose class folders look like split names is never read as classes "train" and "val":
it is either used as splits or refused with the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cnn_tui.errors import DataError

SPLIT_NAMES = {
    "train": ("train", "training", "train_set", "training_set"),
    "val": ("val", "valid", "validation", "val_set", "validation_set", "dev"),
    "test": ("test", "testing", "test_set"),
}


@dataclass
class FolderSplit:
    folder: Path
    files: list[str]
    labels: list[int]


@dataclass
class FolderLayout:
    origin: str  # "split folders", "paths" or "flat"
    root: Path
    classes: list[str]
    train: FolderSplit
    val: FolderSplit | None = None
    test: FolderSplit | None = None
    ignored: list[str] = field(default_factory=list)  # folders under the root that are not splits


# torchvision's ImageFolder list (datasets.folder.IMG_EXTENSIONS), plus GIF: PIL reads it and photo
# folders have them. Spelled out: importing torchvision.datasets costs ~2 s of start-up.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")


def _image_extensions() -> tuple[str, ...]:
    return IMAGE_EXTENSIONS


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in _image_extensions() and path.is_file()


def _class_files(folder: Path, field_name: str) -> dict[str, list[str]]:
    """{class folder name: its image files}, for the class folders that hold images."""
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{field_name}: {folder} is not a folder") from None
    except PermissionError as exc:
        raise DataError(f"{field_name}: {folder}: {exc}") from None
    found: dict[str, list[str]] = {}
    for child in children:
        files = sorted(_images_under(child))
        if files:
            found[child.name] = files
    return found


def _images_under(folder: Path) -> list[str]:
    """Image files anywhere below `folder` (os.walk: a third of rglob's time on 20,000 files)."""
    out: list[str] = []
    for parent, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        out.extend(os.path.join(parent, n) for n in names if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS)
    return out


def _loose_images(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if is_image_file(p))


def _split_dirs(root: Path) -> dict[str, list[Path]]:
    """Sub-folders of `root` whose names are split names, by split."""
    found: dict[str, list[Path]] = {"train": [], "val": [], "test": []}
    for child in sorted(root.iterdir()):
        if not child.is_dir():
            continue
        for split, names in SPLIT_NAMES.items():
            if child.name.lower() in names:
                found[split].append(child)
    return found


def scan(data) -> FolderLayout:
    """The layout of the recipe's image_folder data (raises DataError with one line if unusable)."""
    if data.train_path:
        folders = {"train": Path(data.train_path), "val": data.val_path and Path(data.val_path),
                   "test": data.test_path and Path(data.test_path)}
        return _from_split_folders("paths", Path(data.train_path).parent, folders, [], field_prefix="data.")
    if not data.path:
        raise DataError("data.path: dataset 'image_folder' needs data.path (a folder of class folders, "
                        "or of train/ val/ test/ folders) or data.train_path")
    root = Path(data.path)
    if not root.is_dir():
        raise DataError(f"data.path: {root} is not a folder")
    splits = _split_dirs(root)
    if not any(splits.values()):
        wrapped = _single_wrapper(root)
        if wrapped is not None:
            root, splits = wrapped, _split_dirs(wrapped)
    if any(splits.values()):
        return _from_split_root(root, splits)
    classes = _class_files(root, "data.path")
    return _flat(root, classes)


def _single_wrapper(root: Path) -> Path | None:
    """`root/only_child/{train,val}`: an archive unpacked into a folder of its own name."""
    children = [p for p in root.iterdir() if not p.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir() and any(_split_dirs(children[0]).values()):
        return children[0]
    return None


def _from_split_root(root: Path, splits: dict[str, list[Path]]) -> FolderLayout:
    for split, dirs in splits.items():
        if len(dirs) > 1:
            names = " and ".join(f"{d.name}/" for d in dirs)
            raise DataError(f"data.path: {root} has both {names}; keep one {split} folder "
                            "or name the folders with data.train_path / val_path / test_path")
    present = [d[0].name + "/" for d in splits.values() if d]
    if not splits["train"]:
        raise DataError(f"data.path: {root} has {', '.join(present)} but no train/ folder; split folders "
                        "need train/ (plus val/ and optionally test/), or set data.train_path")
    for dirs in splits.values():
        if dirs and _loose_images(dirs[0]) and not _class_files(dirs[0], "data.path"):
            raise DataError(f"data.path: {dirs[0]} holds images directly; each split folder needs one "
                            f"sub-folder per class ({dirs[0].name}/cats/..., {dirs[0].name}/dogs/...)")
    used = {d[0] for d in splits.values() if d}
    ignored = sorted(p.name + "/" for p in root.iterdir()
                     if p.is_dir() and p not in used and not p.name.startswith("."))
    folders = {split: (dirs[0] if dirs else None) for split, dirs in splits.items()}
    return _from_split_folders("split folders", root, folders, ignored, field_prefix="data.path: ")


def _from_split_folders(origin: str, root: Path, folders: dict, ignored: list[str],
                        field_prefix: str) -> FolderLayout:
    per_split: dict[str, dict[str, list[str]]] = {}
    for split, folder in folders.items():
        if folder is None or folder == "":
            continue
        name = f"data.{split}_path" if origin == "paths" else "data.path"
        files = _class_files(Path(folder), name)
        if not files:
            raise DataError(f"{name}: {folder} has no images in class sub-folders "
                            f"({', '.join(_image_extensions()[:4])}, ...)")
        per_split[split] = files
    classes = sorted(per_split["train"])
    _check_same_classes(per_split, folders, origin)
    if len(classes) < 2:
        raise DataError(f"{_field(origin, 'train')}: {folders['train']} has images in only one class folder "
                        f"('{classes[0]}'); a classifier needs at least 2")
    index = {name: i for i, name in enumerate(classes)}

    def split_of(split: str) -> FolderSplit | None:
        if split not in per_split:
            return None
        files = [f for name in classes for f in per_split[split][name]]
        labels = [index[name] for name in classes for _ in per_split[split][name]]
        return FolderSplit(Path(folders[split]), files, labels)

    train = split_of("train")
    assert train is not None
    return FolderLayout(origin, root, classes, train, split_of("val"), split_of("test"), ignored)


def _field(origin: str, split: str) -> str:
    return f"data.{split}_path" if origin == "paths" else "data.path"


def _check_same_classes(per_split: dict[str, dict[str, list[str]]], folders: dict, origin: str) -> None:
    """Every split must have the same class folders, or labels would mean different things."""
    train = set(per_split["train"])
    problems = []
    for split, files in per_split.items():
        if split == "train":
            continue
        name = Path(folders[split]).name + "/"
        missing, extra = sorted(train - set(files)), sorted(set(files) - train)
        if missing:
            problems.append(f"{name} lacks {', '.join(missing)}")
        if extra:
            problems.append(f"{name} has {', '.join(extra)}, which {Path(folders['train']).name}/ lacks")
    if problems:
        where = Path(folders["train"]).parent if origin != "paths" else Path(folders["train"])
        raise DataError(f"{_field(origin, 'train') if origin == 'paths' else 'data.path'}: the splits' class "
                        f"folders differ in {where}: {'; '.join(problems)}")


def _flat(root: Path, classes: dict[str, list[str]]) -> FolderLayout:
    names = sorted(classes)
    if not names:
        raise DataError(f"data.path: {root} has no images ({', '.join(_image_extensions()[:4])}, ...) "
                        "in class sub-folders")
    if len(names) < 2:
        raise DataError(f"data.path: {root} has images in only one class folder "
                        f"('{names[0]}'); a classifier needs at least 2")
    files = [f for name in names for f in classes[name]]
    labels = [i for i, name in enumerate(names) for _ in classes[name]]
    return FolderLayout("flat", root, names, FolderSplit(root, files, labels))
