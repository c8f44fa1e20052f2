"""Dataset sources: everything becomes uint8 tensors (N x C x H x W) plus labels, in memory.

Small teaching datasets fit in memory, and batched tensor work on them is far faster
than per-image Python transforms (airbench's lesson). Larger ones get a clear error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from cnn_tui.data import shapes
from cnn_tui.data.images import load_images
from cnn_tui.data.split import split_indices
from cnn_tui.errors import DataError, DataUnavailableError

TORCHVISION_SETS = {
    "mnist": "MNIST",
    "fashion_mnist": "FashionMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
}


@dataclass
class DataBundle:
    train_x: torch.Tensor  # uint8, N x C x H x W
    train_y: torch.Tensor  # int64
    val_x: torch.Tensor
    val_y: torch.Tensor
    class_names: list[str]

    @property
    def channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.train_x.shape[-1])


def load_data(data, seed: int, log: Callable[[str], None] = lambda _: None,
              channels: int | None = None) -> DataBundle:
    """Build the train/val tensors a recipe's `data:` section describes.

    `channels=3` makes grayscale images RGB (pretrained backbones expect three channels).
    """
    bundle = _load(data, seed, log)
    if data.per_class is not None:
        bundle = _per_class(bundle, data.per_class, seed)
    if channels == 3 and bundle.channels == 1:
        bundle.train_x = bundle.train_x.expand(-1, 3, -1, -1).contiguous()
        bundle.val_x = bundle.val_x.expand(-1, 3, -1, -1).contiguous()
    return bundle


def _per_class(bundle: DataBundle, count: int, seed: int) -> DataBundle:
    """Keep `count` labelled training images per class (the small-data case), chosen by the seed."""
    order = torch.randperm(len(bundle.train_y), generator=torch.Generator().manual_seed(seed + 1))
    keep = torch.cat([order[bundle.train_y[order] == c][:count] for c in range(len(bundle.class_names))])
    keep = keep.sort().values
    bundle.train_x, bundle.train_y = bundle.train_x[keep], bundle.train_y[keep]
    return bundle


def _load(data, seed: int, log: Callable[[str], None]) -> DataBundle:
    if data.dataset == "shapes":
        return _shapes(data, seed)
    if data.dataset == "lfw_faces":
        x, y, names = _lfw_faces()
    elif data.dataset in TORCHVISION_SETS:
        x, y, names = _torchvision(data)
    elif data.dataset == "oxford_pet":
        x, y, names = _oxford_pet(data, log)
    else:
        x, y, names = _image_folder(data, log)
    x = _fit(x, data)
    train_idx, val_idx = split_indices(len(y), data.val_split, seed)
    if data.limit is not None:
        train_idx = train_idx[: data.limit]
    return DataBundle(x[train_idx], y[train_idx], x[val_idx], y[val_idx], names)


def _shapes(data, seed: int) -> DataBundle:
    cfg = data.shapes
    x, y = shapes.generate(cfg.num_train + cfg.num_val, data.image_size, cfg.classes, cfg.noise, seed)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if data.grayscale:
        x = _fit(x, data)
    n = cfg.num_train if data.limit is None else min(cfg.num_train, data.limit)
    return DataBundle(x[:n], y[:n], x[cfg.num_train:], y[cfg.num_train:], list(cfg.classes))


def _lfw_faces() -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """scikit-image's `lfw_subset`: 100 faces and 100 non-faces, 25x25 grayscale, shipped in
    the scikit-image package (Labeled Faces in the Wild, University of Massachusetts)."""
    try:
        from skimage import data as skdata
    except ImportError:
        raise DataUnavailableError("data.dataset: lfw_faces comes with scikit-image; "
                                   "pip install scikit-image") from None
    images = np.asarray(skdata.lfw_subset(), dtype=np.float32)  # 200 x 25 x 25 in [0, 1]
    x = torch.from_numpy(np.clip(images * 255 + 0.5, 0, 255).astype(np.uint8)).unsqueeze(1)
    y = torch.cat([torch.zeros(100, dtype=torch.int64), torch.ones(100, dtype=torch.int64)])
    return x, y, ["face", "non_face"]


def _fit(x: torch.Tensor, data) -> torch.Tensor:
    """Convert channels and size to what the recipe asks for, in chunks to bound memory."""
    if data.grayscale and x.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        x = torch.cat([(c.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
                       for c in x.split(4096)])
    if x.shape[-1] != data.image_size or x.shape[-2] != data.image_size:
        x = torch.cat([
            F.interpolate(c.float(), size=(data.image_size,) * 2, mode="bilinear",
                          align_corners=False, antialias=True).round().clamp(0, 255).to(torch.uint8)
            for c in x.split(4096)
        ])
    return x.contiguous()


def _unavailable(name: str, root: str, exc: Exception) -> DataUnavailableError:
    reason = " ".join(str(exc).split())[:120]
    return DataUnavailableError(
        f"data.dataset: {name} is not in {root} and could not be downloaded ({reason}); "
        f"run once with internet access (data.download: true) or copy the files into data.root"
    )


def _torchvision(data) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    import torchvision.datasets as tvd

    cls = getattr(tvd, TORCHVISION_SETS[data.dataset])
    root = os.path.expanduser(data.root)
    try:
        ds = cls(root, train=True, download=data.download)
    except Exception as exc:  # torchvision raises RuntimeError, URLError, OSError, ...
        raise _unavailable(cls.__name__, root, exc) from None
    x = ds.data if isinstance(ds.data, torch.Tensor) else torch.from_numpy(np.asarray(ds.data))
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    y = torch.as_tensor(ds.targets, dtype=torch.int64)
    return x.contiguous(), y, [str(c) for c in ds.classes]


def _check_memory(count: int, data) -> None:
    channels = 1 if data.grayscale else 3
    need = count * channels * data.image_size**2 / 1e9
    if need > data.max_memory_gb:
        raise DataError(
            f"data.image_size: {count} images at {data.image_size}px need {need:.1f} GB in memory, "
            f"over data.max_memory_gb ({data.max_memory_gb}); lower image_size, set data.limit, "
            "or raise max_memory_gb"
        )


def _oxford_pet(data, log) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Oxford-IIIT Pet with its binary cats-vs-dogs target (trainval split)."""
    import torchvision.datasets as tvd

    root = os.path.expanduser(data.root)
    try:
        ds = tvd.OxfordIIITPet(root, split="trainval", target_types="binary-category",
                               download=data.download)
    except Exception as exc:
        raise _unavailable("OxfordIIITPet", root, exc) from None
    files = [str(p) for p in ds._images]
    labels = list(ds._bin_labels)
    if data.limit is not None:  # keep decoding time proportional to what is used
        order = torch.randperm(len(files), generator=torch.Generator().manual_seed(0))
        keep = order[: int(data.limit / (1 - data.val_split)) + 1].tolist()
        files, labels = [files[i] for i in keep], [labels[i] for i in keep]
    _check_memory(len(files), data)
    x, kept = load_images(files, data.image_size, data.grayscale, data.on_corrupt, "data.root", log)
    return x, torch.tensor([labels[i] for i in kept], dtype=torch.int64), ["cat", "dog"]


def _image_folder(data, log) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Any tree of ROOT/<class>/<image> (the dogs-vs-cats layout)."""
    from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset, find_classes

    if not data.path:
        raise DataError("data.path: dataset 'image_folder' needs data.path, a folder of class folders")
    root = Path(data.path)
    if not root.is_dir():
        raise DataError(f"data.path: {root} is not a folder")
    try:
        classes, class_to_idx = find_classes(str(root))
        samples = make_dataset(str(root), class_to_idx, extensions=IMG_EXTENSIONS, allow_empty=True)
    except (FileNotFoundError, PermissionError) as exc:
        raise DataError(f"data.path: {root}: {exc}") from None
    used = sorted({label for _, label in samples})
    if not samples:
        raise DataError(f"data.path: {root} has no images ({', '.join(IMG_EXTENSIONS[:4])}, ...) "
                        "in class sub-folders")
    if len(used) < 2:
        raise DataError(f"data.path: {root} has images in only one class folder "
                        f"('{classes[used[0]]}'); a classifier needs at least 2")
    _check_memory(len(samples), data)
    files = [path for path, _ in samples]
    x, kept = load_images(files, data.image_size, data.grayscale, data.on_corrupt, "data.path", log)
    y = torch.tensor([samples[i][1] for i in kept], dtype=torch.int64)
    return x, y, list(classes)
