"""Image folders as they come from the world, built for real in tmp_path: link loops, links to a
sibling class, archive debris, FIFOs and sockets named like images, unreadable classes, split
folders nested inside class folders. Counts are checked exactly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnn_tui.cli import main
from cnn_tui.contract.errors import DataError
from cnn_tui.data.images import load_image
from cnn_tui.data.layout import scan
from cnn_tui.data.sources import load_data
from cnn_tui.engine.predict import image_files
from cnn_tui.recipes.schema import Data
from tests.dataset_files import image_tree

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]


def folder_data(root: Path, **kw) -> Data:
    fields = {"image_size": 12, "val_split": 0.25, "decode_cache": None, **kw}
    return Data(dataset="image_folder", path=str(root), **fields)


def pets(root: Path, cats: int = 12, dogs: int = 12) -> Path:
    return image_tree(root, {"cats": cats, "dogs": dogs})


def real_files(layout) -> list[str]:
    splits = [s for s in (layout.train, layout.val, layout.test) if s is not None]
    return [os.path.realpath(f) for s in splits for f in s.files]


def test_a_link_loop_back_to_the_root_is_skipped_and_counted(tmp_path):
    """The reported failure: 24 images became 984, the same files in train and val."""
    root = pets(tmp_path / "data")
    os.symlink("..", root / "cats" / "again")
    os.symlink("../..", root / "dogs" / "deeper")  # out of the data folder, to its parent
    layout = scan(folder_data(root))
    assert len(layout.train.files) == 24 and len(set(real_files(layout))) == 24
    assert layout.skipped.counts == {"link loop": 2}
    bundle = load_data(folder_data(root), seed=0)
    assert (len(bundle.train), len(bundle.val)) == (18, 6)


def test_a_link_loop_in_split_folders_keeps_train_and_val_apart(tmp_path):
    root = tmp_path / "data"
    image_tree(root / "train", {"cats": 6, "dogs": 6})
    image_tree(root / "val", {"cats": 2, "dogs": 2}, seed=1)
    os.symlink("../../val", root / "train" / "cats" / "peek")  # a link into the val split
    os.symlink("../../train/dogs", root / "val" / "cats" / "more")  # a link into another split's class
    layout = scan(folder_data(root))
    assert (len(layout.train.files), len(layout.val.files)) == (12, 4)
    assert not set(map(os.path.realpath, layout.train.files)) & set(map(os.path.realpath, layout.val.files))
    assert layout.skipped.counts == {"reached twice": 2}


def test_links_to_a_sibling_class_and_to_a_class_folder_are_reached_once(tmp_path):
    root = pets(tmp_path / "data", cats=5, dogs=4)
    os.symlink("../dogs", root / "cats" / "dogs_link")  # inside cats: would label every dog a cat
    os.symlink("cats", root / "kitties")  # a second name for a class folder: not a third class
    os.symlink("../dogs/0.png", root / "cats" / "a_dog.png")  # a file link: the dog stays a dog
    layout = scan(folder_data(root))
    assert layout.classes == ["cats", "dogs"]
    by_class = {name: [f for f, y in zip(layout.train.files, layout.train.labels) if y == i]
                for i, name in enumerate(layout.classes)}
    assert [Path(f).name for f in by_class["dogs"]] == [f"{i}.png" for i in range(4)]
    assert len(by_class["cats"]) == 5 and all("/cats/" in f for f in by_class["cats"])
    assert layout.skipped.counts == {"reached twice": 3}


def test_hidden_and_archive_debris_never_become_images_or_classes(tmp_path):
    root = pets(tmp_path / "data", cats=3, dogs=3)
    image_tree(root / "__MACOSX", {"cats": 2, "dogs": 2})  # real images in the debris: still skipped
    (root / "cats" / "._0.png").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    image_tree(root / ".git", {"objects": 2})
    image_tree(root / "dogs", {".ipynb_checkpoints": 2, "@eaDir": 1})
    image_tree(root, {"$RECYCLE.BIN": 1, "System Volume Information": 1})
    (root / ".DS_Store").write_bytes(b"Bud1")
    layout = scan(folder_data(root))
    assert layout.classes == ["cats", "dogs"] and len(layout.train.files) == 6
    assert not any("MACOSX" in f or "/." in f or "@eaDir" in f for f in layout.train.files)
    assert layout.skipped.counts == {"hidden or debris": 8}


def fifo_scene(root: Path) -> Path:
    pets(root, cats=3, dogs=3)
    os.mkfifo(root / "cats" / "x.png")
    os.mkfifo(root / "lone.png")
    return root


def test_a_fifo_named_like_an_image_is_skipped_never_opened(tmp_path):
    """Opening a FIFO blocks until a writer comes: checked in a child process with a deadline,
    so a regression fails here instead of hanging the suite."""
    root = fifo_scene(tmp_path / "data")
    code = textwrap.dedent(f"""\
        import json
        from cnn_tui.data.images import load_image
        from cnn_tui.data.sources import load_data
        from cnn_tui.engine.predict import image_files
        from cnn_tui.recipes.schema import Data
        bundle = load_data(Data(dataset="image_folder", path={str(root)!r}, image_size=12, val_split=0.25,
                                decode_cache=None, on_corrupt="error"), seed=0)
        files, errors = image_files([{str(root)!r}, {str(root / 'lone.png')!r}])
        try:
            load_image({str(root / 'lone.png')!r}, 12, False)
        except OSError as exc:
            opened = str(exc)
        print(json.dumps([len(bundle.train) + len(bundle.val), len(files), errors, opened]))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=40, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    images, files, errors, opened = json.loads(done.stdout)
    assert (images, files) == (6, 6)
    assert errors == [f"{root / 'lone.png'}: not a regular file (a FIFO, socket or device); give image files "
                      "or folders"]
    assert "not a regular file" in opened
    assert scan(folder_data(root)).skipped.counts == {"special file": 1}


def test_a_socket_a_link_to_a_fifo_and_a_broken_link_are_skipped_and_counted(tmp_path):
    root = pets(tmp_path / "data", cats=3, dogs=3)
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(root / "dogs" / "sock.jpg"))
        os.symlink("gone.png", root / "cats" / "broken.png")
        os.mkfifo(tmp_path / "pipe")
        os.symlink(tmp_path / "pipe", root / "cats" / "piped.png")  # a link to a FIFO
        layout = scan(folder_data(root))
    finally:
        server.close()
    assert len(layout.train.files) == 6
    assert layout.skipped.counts == {"special file": 2, "broken link": 1}


def test_a_class_of_only_unusable_files_is_refused_naming_it(tmp_path):
    root = pets(tmp_path / "data", cats=3, dogs=3)
    (root / "birds").mkdir()
    for name in ("a.txt", "b.csv", "._c.jpg"):
        (root / "birds" / name).write_text("x")
    with pytest.raises(DataError) as info:
        scan(folder_data(root))
    assert str(info.value) == (f"data.path: class folder birds/ in {root} has 3 entries, none a usable image "
                               "(1 hidden or debris, 2 not images); add images (.jpg, .jpeg, .png, .ppm, ...) "
                               "or move the folder out")


def test_an_empty_class_folder_is_refused_naming_it(tmp_path):
    root = pets(tmp_path / "data", cats=3, dogs=3)
    (root / "birds").mkdir()
    with pytest.raises(DataError, match=r"^data.path: class folder birds/ in .* is empty; add images"):
        scan(folder_data(root))


def test_a_class_whose_images_all_fail_to_decode_is_refused_naming_it(tmp_path):
    root = pets(tmp_path / "data", cats=3, dogs=3)
    (root / "birds").mkdir()
    for i in range(3):
        (root / "birds" / f"{i}.jpg").write_bytes(b"not a jpeg at all")
    (root / "birds" / "empty.png").write_bytes(b"")  # a zero-byte image
    with pytest.raises(DataError) as info:
        load_data(folder_data(root), seed=0)  # on_corrupt: skip, the default
    assert str(info.value) == (f"data.path: class birds has 4 image file(s) in {root / 'birds'}/, none readable "
                               f"(e.g. {root / 'birds' / '0.jpg'}); replace them or remove them")


@pytest.mark.parametrize("inner", [("train", "val", "test"), ("train", "val"), ("val", "test")])
def test_split_folders_inside_class_folders_are_refused_with_the_layout_to_use(tmp_path, inner):
    root = tmp_path / "data"
    for split in inner:
        image_tree(root / "cats" / split, {"a": 2})
        image_tree(root / "dogs" / split, {"a": 2})
    with pytest.raises(DataError) as info:
        scan(folder_data(root))
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"data.path: {root} has split folders inside class folders")
    assert f"{root}/{inner[0]}/cats/" in message and f"{root}/{inner[1]}/cats/" in message


def test_a_subfolder_named_test_alone_is_not_a_split(tmp_path):
    root = pets(tmp_path / "data", cats=3, dogs=3)
    image_tree(root / "cats", {"test": 2})  # one sub-folder that happens to be called test
    assert len(scan(folder_data(root)).train.files) == 8


def test_a_split_linked_to_another_split_is_refused(tmp_path):
    root = tmp_path / "data"
    image_tree(root / "train", {"cats": 3, "dogs": 3})
    os.symlink("train", root / "val")
    with pytest.raises(DataError, match=r"data.path: .*/val is the same folder as .*/train \(a link\)"):
        scan(folder_data(root))


@pytest.mark.parametrize("path", ["/proc", "/sys", "/dev"])
def test_a_virtual_file_system_is_refused_at_once(path):
    if not os.path.isdir(path):
        pytest.skip(f"no {path} here")
    with pytest.raises(DataError, match=rf"^data.path: {path} is on a \w+ virtual file system"):
        scan(folder_data(Path(path)))


def test_other_families(tmp_path):
    """A folder named x.jpg, uppercase extensions, unicode names, a zero-byte .jpg, links to
    a folder outside the data folder (followed: that is what links are for)."""
    root = pets(tmp_path / "data", cats=2, dogs=2)
    image_tree(root / "cats" / "x.jpg", {"inner": 1})  # a folder named like an image: walked into
    os.rename(root / "dogs" / "0.png", root / "dogs" / "ZERO.PNG")
    image_tree(root / "dogs", {"chiens été 🐕": 2})
    outside = image_tree(tmp_path / "elsewhere", {"more": 2})
    os.symlink(outside / "more", root / "cats" / "more")
    layout = scan(folder_data(root))
    names = sorted(Path(f).name for f in layout.train.files)
    assert len(layout.train.files) == 9 and "ZERO.PNG" in names
    assert any("🐕" in f for f in layout.train.files) and layout.skipped.counts == {}


def test_predict_walks_folders_as_training_does(tmp_path):
    root = pets(tmp_path / "photos", cats=2, dogs=2)
    os.symlink("..", root / "cats" / "loop")
    image_tree(root / "__MACOSX", {"cats": 2})
    os.mkfifo(root / "dogs" / "pipe.png")
    files, errors = image_files([str(root)])
    assert len(files) == 4 and errors == []
    assert image_files([str(root), str(root / "cats"), str(root)]) == (files, [])  # each image once
    only = tmp_path / "only_debris"
    image_tree(only, {"__MACOSX": 2})
    assert image_files([str(only)])[1] == [f"{only}: no images in this folder (.jpg, .png, .bmp, .gif, .tif, "
                                           ".webp, ...); skipped 1 hidden or debris"]


def test_load_image_refuses_a_folder_and_a_device(tmp_path):
    for path in (tmp_path, Path("/dev/null")):
        with pytest.raises(OSError, match="not a regular file"):
            load_image(path, 12, False)


def test_validate_and_the_run_start_say_what_was_skipped(tmp_path, capsys):
    root = pets(tmp_path / "data", cats=6, dogs=6)
    os.symlink("..", root / "cats" / "again")
    image_tree(root / "__MACOSX", {"cats": 1})
    recipe = tmp_path / "r.yaml"
    recipe.write_text(textwrap.dedent(f"""\
        kind: scratch
        device: cpu
        data: {{dataset: image_folder, path: {root}, image_size: 12, val_split: 0.25, decode_cache: null}}
        model: {{arch: vgg, vgg_config: [4, M]}}
        train: {{epochs: 1, batch_size: 6}}
    """))
    line = (f"skipped while scanning: 1 link loop (e.g. {root}/cats/again); "
            f"1 hidden or debris (e.g. {root}/__MACOSX)")
    assert main(["validate", str(recipe)]) == 0
    out = capsys.readouterr().out
    assert "train 9 / val 3" in out and f"data: {line}\n" in out
    assert main(["run", str(recipe), "--out", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "data: 9 train / 3 val images" in out and f"- {line}\n" in out


def test_a_folder_that_cannot_be_listed_is_counted_and_a_root_that_cannot_is_one_line(tmp_path, monkeypatch):
    """We run as root, so chmod 000 still reads: the refusal is simulated where the walk lists."""
    from cnn_tui.data import walk

    root = pets(tmp_path / "data", cats=3, dogs=3)
    image_tree(root / "cats", {"locked": 2})
    listing, locked = os.scandir, [str(root / "cats" / "locked")]

    def scandir(path):
        if str(path) in locked:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(walk.os, "scandir", scandir)
    layout = scan(folder_data(root))
    assert len(layout.train.files) == 6 and layout.skipped.counts == {"unreadable": 1}
    locked[:] = [str(root)]
    with pytest.raises(DataError, match=rf"^data.path: {root}: Permission denied$"):
        scan(folder_data(root))


def test_a_link_into_proc_and_a_link_to_itself_are_skipped(tmp_path):
    """/proc/*/root leads to / and reads there can block: a link into a virtual file system is not
    followed; a link that leads to itself fails to resolve (ELOOP) and is a loop."""
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    root = pets(tmp_path / "data", cats=3, dogs=3)
    os.symlink("/proc", root / "cats" / "proc")
    os.symlink("self.png", root / "dogs" / "self.png")
    layout = scan(folder_data(root))
    assert len(layout.train.files) == 6
    assert layout.skipped.counts == {"virtual file system": 1, "link loop": 1}
