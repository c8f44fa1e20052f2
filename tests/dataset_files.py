"""Datasets written here in their real on-disk formats, for the real torchvision parsers.

Each class has its own visual signature (a bright block at a class-specific place, or a
class-specific colour), so a model trained on these files can really learn them.
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def _signature_images(labels: np.ndarray, size: int, channels: int, seed: int) -> np.ndarray:
    """N x size x size (x channels) uint8: noise plus a bright block placed by the label."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (len(labels), size, size, channels), dtype=np.uint8)
    block = size // 4
    for i, label in enumerate(labels):
        row, col = divmod(int(label) % 9, 3)
        images[i, row * block + 2:row * block + 2 + block, col * block + 2:col * block + 2 + block] = 230
    return images[..., 0] if channels == 1 else images


# ------------------------------------------------------------------ MNIST: IDX files

def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, n_train: int = 60, n_test: int = 20, folder: str = "MNIST") -> Path:
    """root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte, as torchvision unpacks them."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        labels = np.arange(n) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", _signature_images(labels, 28, 1, seed), 2051)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, 2049)
    return root


# ------------------------------------------------------------------ CIFAR-10: pickled batches

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root: Path, per_batch: int = 10, n_test: int = 20) -> dict[str, str]:
    """root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}: dicts pickled as the
    originals are (rows of 3072 bytes, R then G then B planes). Returns {file name: md5}."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    md5s = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(names):
        n = n_test if name == "test_batch" else per_batch
        labels = (np.arange(n) + seed) % 10
        hwc = _signature_images(labels, 32, 3, seed)
        rows = hwc.transpose(0, 3, 1, 2).reshape(n, 3072)
        _pickle(folder / name, {"batch_label": name, "labels": labels.tolist(), "data": rows,
                                "filenames": [f"{i}.png" for i in range(n)]})
    _pickle(folder / "batches.meta", {"label_names": CIFAR_NAMES, "num_cases_per_batch": per_batch,
                                      "num_vis": 3072})
    for path in folder.iterdir():
        md5s[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    return md5s


def _pickle(path: Path, obj: dict) -> None:
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)


def cifar_checksums(monkeypatch, md5s: dict[str, str]) -> None:
    """Point torchvision's integrity check at these files' md5s (the real ones are for the real files);
    the check itself still runs, over the files written here."""
    import torchvision.datasets as tvd

    cls = tvd.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[n, md5s[n]] for n, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[n, md5s[n]] for n, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5s[cls.meta["filename"]]})


# ------------------------------------------------------------------ Oxford-IIIT Pet: folders and lists

PET_BREEDS = [("Abyssinian", 1, 1), ("Bengal", 6, 1), ("beagle", 3, 2), ("pug", 26, 2)]  # name, class id, species


def write_oxford_pet(root: Path, per_breed: int = 6, test_per_breed: int = 3, size=(48, 40)) -> Path:
    """root/oxford-iiit-pet/images/<Breed>_<n>.jpg and annotations/{trainval,test}.txt
    ("Image CLASS-ID SPECIES BREED-ID" lines; species 1 cat, 2 dog). Cats are reddish, dogs bluish."""
    base = root / "oxford-iiit-pet"
    (base / "images").mkdir(parents=True)
    (base / "annotations").mkdir()
    rng = np.random.default_rng(0)
    lists: dict[str, list[str]] = {"trainval": [], "test": []}
    for breed, class_id, species in PET_BREEDS:
        for n in range(1, per_breed + test_per_breed + 1):
            image_id = f"{breed}_{n}"
            pixels = rng.integers(0, 80, (size[1], size[0], 3), dtype=np.uint8)
            pixels[..., 0 if species == 1 else 2] += 150
            Image.fromarray(pixels).save(base / "images" / f"{image_id}.jpg", quality=90)
            split = "trainval" if n <= per_breed else "test"
            lists[split].append(f"{image_id} {class_id} {species} {n}")
    for split, lines in lists.items():
        (base / "annotations" / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


# ------------------------------------------------------------------ ImageFolder trees

def image_tree(root: Path, classes: dict[str, int], size=(20, 14), fmt: str = "png", seed: int = 0) -> Path:
    """root/<class>/<i>.<fmt>: class k is tinted by channel k % 3, so classes are learnable."""
    rng = np.random.default_rng(seed)
    for k, (name, count) in enumerate(classes.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 100, (size[1], size[0], 3), dtype=np.uint8)
            pixels[..., k % 3] += 150
            Image.fromarray(pixels).save(root / name / f"{i}.{fmt}")
    return root


def pet_photos(folder: Path, per_class: int, layout: str = "kaggle", size=(40, 30), seed: int = 0) -> Path:
    """Small real JPEGs of 'cats' and 'dogs' in the layouts the course's data come in:
    kaggle: folder/cat.0.jpg, folder/dog.0.jpg (Kaggle's dogs-vs-cats train/, the class in the name);
    petimages: folder/Cat/0.jpg, folder/Dog/0.jpg (Microsoft's PetImages, class folders).
    A cat is a warm bright blob, a dog a cool dark one, on noise: learnable in an epoch or two."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(("cat", "dog")):
        if layout == "petimages":
            (folder / name.title()).mkdir(exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 90, (size[1], size[0], 3), dtype=np.uint8)
            x, y = int(rng.integers(0, size[0] // 2)), int(rng.integers(0, size[1] // 2))
            pixels[y:y + size[1] // 2, x:x + size[0] // 2, 2 * k] += 160
            path = folder / f"{name}.{i}.jpg" if layout == "kaggle" else folder / name.title() / f"{i}.jpg"
            Image.fromarray(pixels).save(path, quality=85)
    return folder
