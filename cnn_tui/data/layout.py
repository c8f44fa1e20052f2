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

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.contract.errors import DataError
from cnn_tui.data.walk import Entry, Listing, Skips, Walker

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
    skipped: Skips = field(default_factory=Skips)  # what the walk left out, by reason
    by_name: bool = False  # classes from file names (data.label_from), not class folders


# torchvision's ImageFolder list (datasets.folder.IMG_EXTENSIONS), plus GIF: PIL reads it and photo
# folders have them. Spelled out: importing torchvision.datasets costs ~2 s of start-up.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")


_EXTENSIONS = frozenset(IMAGE_EXTENSIONS)


def is_image_name(name: str) -> bool:
    return name[name.rfind("."):].lower() in _EXTENSIONS


def _listing(walker: Walker, folder: Path, field_name: str) -> Listing:
    try:
        return walker.listing(str(folder), walker.skips)
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{field_name}: {folder} is not a folder") from None
    except OSError as exc:
        raise DataError(f"{field_name}: {folder}: {exc.strerror or exc}") from None


def _class_folders(walker: Walker, folder: Path, field_name: str) -> list[Entry]:
    """The class folders of `folder`, claimed (a link to one already seen is skipped)."""
    return walker.claim([e for e in _listing(walker, folder, field_name).others if e.kind == "dir"])


def _class_files(walker: Walker, field_name: str,
                 classes_of: dict[str, tuple[Path, list[Entry]]]) -> dict[str, dict[str, list[str]]]:
    """{split: {class folder name: its image files}}, walked in one go (so a file is taken once
    over all splits); a class folder without a usable image is refused (`field_name` may hold
    "{split}": data.{split}_path)."""
    order = [(split, folder, entry) for split, (folder, entries) in classes_of.items() for entry in entries]

    def refuse(i: int, skipped: Skips) -> None:
        split, folder, entry = order[i]
        raise DataError(f"{field_name.format(split=split)}: {_empty_class(folder, entry.name, skipped)}")

    found: dict[str, dict[str, list[str]]] = {split: {} for split in classes_of}
    walked = walker.walk([entry.path for _, _, entry in order], is_image_name, refuse)
    for i, ((split, _, entry), (files, skipped)) in enumerate(zip(order, walked)):
        if not files:  # its only files were links to files another class holds
            refuse(i, skipped)
        found[split][entry.name] = files
    return found


def _empty_class(folder: Path, name: str, skipped: Skips) -> str:
    where, count = f"class folder {name}/ in {folder}", skipped.total()
    if not count:
        return f"{where} is empty; add images to it or remove it"
    return (f"{where} has {count:,} {'entry' if count == 1 else 'entries'}, none a usable image "
            f"({skipped.reasons()}); add images ({', '.join(IMAGE_EXTENSIONS[:4])}, ...) or move the folder out")


def _loose_images(walker: Walker, folder: Path) -> int:
    listing = _listing(walker, folder, "data.path")
    return sum(1 for name in listing.files if is_image_name(name)) + sum(
        1 for e in listing.others if e.kind == "file" and is_image_name(e.name))


def _split_kinds(entries: list[Entry]) -> dict[str, list[Entry]]:
    """The folders among `entries` whose names are split names, by split."""
    found: dict[str, list[Entry]] = {"train": [], "val": [], "test": []}
    for entry in entries:
        if entry.kind == "dir":
            for split, names in SPLIT_NAMES.items():
                if entry.name.lower() in names:
                    found[split].append(entry)
    return found


def _split_dirs(walker: Walker, root: Path) -> dict[str, list[Path]]:
    """Sub-folders of `root` whose names are split names, by split."""
    kinds = _split_kinds(_listing(walker, root, "data.path").others)
    return {split: [Path(e.path) for e in entries] for split, entries in kinds.items()}


def scan(data, named: Callable[[Walker, Any], FolderLayout | None] | None = None) -> FolderLayout:
    """The layout of the recipe's image_folder data (raises DataError with one line if unusable);
    what the walk skipped is in `layout.skipped`. `named` reads labels from file names
    (data.label_from; by_name.named_layout, passed in by folder_scan.scan: it builds on this module)."""
    walker = Walker()
    by_name = getattr(data, "label_from", "folder") != "folder"
    if by_name and named is None:
        raise ValueError("data.label_from needs the file-name reader: call folder_scan.scan")
    if data.train_path:
        folders = {"train": Path(data.train_path), "val": data.val_path and Path(data.val_path),
                   "test": data.test_path and Path(data.test_path)}
        for split, folder in folders.items():
            if folder:
                _refuse_virtual(walker, folder, f"data.{split}_path")
        if by_name and named is not None and (found := named(walker, data)) is not None:
            return found
        return _from_split_folders(walker, "paths", Path(data.train_path).parent, folders, [])
    if not data.path:
        raise DataError("data.path: dataset 'image_folder' needs data.path (a folder of class folders, "
                        "or of train/ val/ test/ folders) or data.train_path")
    root = Path(data.path)
    if not root.is_dir():
        raise DataError(f"data.path: {root} is not a folder; point data.path at your images "
                        "(e.g. --set data.path=~/data/PetImages)")
    _refuse_virtual(walker, root, "data.path")
    walker.claim_path(str(root))
    if by_name and named is not None and (found := named(walker, data)) is not None:
        return found
    splits = _split_dirs(walker, root)
    if not any(splits.values()):
        wrapped = _single_wrapper(walker, root)
        if wrapped is not None:
            root, splits = wrapped, _split_dirs(walker, wrapped)
    if any(splits.values()):
        return _from_split_root(walker, root, splits)
    classes = _class_folders(walker, root, "data.path")
    _refuse_nested_splits(walker, root, classes)
    _refuse_loose_images(walker, root, classes)
    if not classes and _loose_images(walker, root):
        raise DataError(f"data.path: {root} holds images directly, with no class folders; sort them into one "
                        "folder per class (cats/, dogs/), or, for names like cat.0.jpg, set data.label_from: filename")
    return _flat(walker, root, _class_files(walker, "data.path", {"train": (root, classes)})["train"])


def _refuse_loose_images(walker: Walker, folder: Path, classes: list[Entry]) -> None:
    """Class folders plus images beside them: the loose images have no class folder, and dropping
    them silently would train on less than the user thinks."""
    listing = _listing(walker, folder, "data.path")
    loose = [n for n in listing.files if is_image_name(n)] + [
        e.name for e in listing.others if e.kind == "file" and is_image_name(e.name)]
    if classes and loose:
        shown = ", ".join(f"{e.name}/" for e in classes[:3])
        raise DataError(f"data.path: {folder} has both class folders ({shown}) and {len(loose):,} loose "
                        f"image(s) beside them (e.g. {folder / loose[0]}); move the images into their class "
                        "folders or out of the data folder")


def _refuse_virtual(walker: Walker, folder: Path, field_name: str) -> None:
    kind = walker.virtual_type(str(folder))
    if kind is not None:
        raise DataError(f"{field_name}: {folder} is on a {kind} virtual file system, not a folder of images; "
                        "point it at a folder of class folders")


def _refuse_nested_splits(walker: Walker, root: Path, classes: list[Entry]) -> None:
    """`cats/{train,val,test}`, `dogs/{train,val,test}`: split folders inside class folders would be
    merged into one class each, with no split kept; the fix is to turn the nesting round."""
    for entry in classes:
        try:
            kinds = {k: v for k, v in _split_kinds(walker.listing(entry.path).others).items() if v}
        except OSError:
            continue
        if "train" in kinds or len(kinds) > 1:
            inside = " ".join(f"{entry.name}/{e[0].name}/" for e in kinds.values())
            tops = ", ".join(f"{root}/{e[0].name}/{entry.name}/" for e in kinds.values())
            raise DataError(f"data.path: {root} has split folders inside class folders ({inside}); "
                            f"put the split folders on top, one folder per class inside each: {tops} "
                            "(the same for every class)")


def _single_wrapper(walker: Walker, root: Path) -> Path | None:
    """`root/only_child/{train,val}`: an archive unpacked into a folder of its own name."""
    listing = _listing(walker, root, "data.path")
    if listing.files or len(listing.others) != 1:
        return None
    only = listing.others[0]
    if only.kind == "dir" and any(_split_dirs(walker, Path(only.path)).values()):
        walker.claim_path(only.path)
        return Path(only.path)
    return None


def _from_split_root(walker: Walker, root: Path, splits: dict[str, list[Path]]) -> FolderLayout:
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
        if dirs and _loose_images(walker, dirs[0]):
            subs = [e for e in _listing(walker, dirs[0], "data.path").others if e.kind == "dir"]
            if not subs:
                raise DataError(f"data.path: {dirs[0]} holds images directly; each split folder needs one "
                                f"sub-folder per class ({dirs[0].name}/cats/..., {dirs[0].name}/dogs/...), "
                                "or, for names like cat.0.jpg, set data.label_from: filename")
            _refuse_loose_images(walker, dirs[0], subs)
    used = {str(d[0]) for d in splits.values() if d}
    ignored = sorted(e.name + "/" for e in _listing(walker, root, "data.path").others
                     if e.kind == "dir" and e.path not in used)
    folders = {split: (dirs[0] if dirs else None) for split, dirs in splits.items()}
    return _from_split_folders(walker, "split folders", root, folders, ignored)


def _from_split_folders(walker: Walker, origin: str, root: Path, folders: dict, ignored: list[str]) -> FolderLayout:
    present = {split: Path(folder) for split, folder in folders.items() if folder}
    for split, folder in present.items():
        first = walker.claim_path(str(folder))
        if first is not None:
            raise DataError(f"{_field(origin, split)}: {folder} is the same folder as {first} (a link); "
                            "each split needs a folder of its own, or the model is scored on what it trained on")
    # every split's class folders are claimed before any is walked: a link from one to another is skipped
    classes_of = {split: (folder, _class_folders(walker, folder, _field(origin, split)))
                  for split, folder in present.items()}
    walked = _class_files(walker, _field(origin, "{split}"), classes_of)
    per_split: dict[str, dict[str, list[str]]] = {}
    for split, folder in present.items():
        name = _field(origin, split)
        files = walked[split]
        if not files:
            raise DataError(f"{name}: {folder} has no images in class sub-folders "
                            f"({', '.join(IMAGE_EXTENSIONS[:4])}, ...)")
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
    return FolderLayout(origin, root, classes, train, split_of("val"), split_of("test"), ignored, walker.skips)


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


def _flat(walker: Walker, root: Path, classes: dict[str, list[str]]) -> FolderLayout:
    names = sorted(classes)
    if not names:
        raise DataError(f"data.path: {root} has no images ({', '.join(IMAGE_EXTENSIONS[:4])}, ...) "
                        "in class sub-folders")
    if len(names) < 2:
        raise DataError(f"data.path: {root} has images in only one class folder "
                        f"('{names[0]}'); a classifier needs at least 2")
    files = [f for name in names for f in classes[name]]
    labels = [i for i, name in enumerate(names) for _ in classes[name]]
    return FolderLayout("flat", root, names, FolderSplit(root, files, labels), skipped=walker.skips)
