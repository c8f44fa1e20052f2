"""Dataset sources: every dataset becomes train, val and (where there is one) test splits.

Small datasets are decoded once into uint8 tensors (N x C x H x W) and batched on the
device, far faster than per-image Python transforms (airbench's lesson). Image files above
`data.max_memory_gb`, or with `data.loader: stream`, stay on disk and stream in batches.
The test split is only ever read at the end of a run (trainer), with the kept checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnn_tui.contract.errors import DataError, DataUnavailableError
from cnn_tui.data import shapes
from cnn_tui.data.bundle import DataBundle, ImageSet
from cnn_tui.data.decode_cache import load_images_cached
from cnn_tui.data.expected import PRETRAINED_CHANNELS
from cnn_tui.data.split import split_indices
from cnn_tui.data.streams import Streams, streams_of
from cnn_tui.recipes.schema import Data, PerClassSplits

TORCHVISION_SETS = {
    "mnist": "MNIST",
    "fashion_mnist": "FashionMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
}

Log = Callable[[str], None]


@dataclass
class Pools:
    """What a source provides before splitting: labelled examples (tensor or files) per split."""

    classes: list[str]
    train: ImageSet
    val: ImageSet | None = None
    test: ImageSet | None = None
    origin: str = ""  # how the splits were found, for the description
    test_origin: str = ""
    scan_note: str = ""  # what the folder scan skipped, by reason ("" if nothing)
    drawn: bool = False  # data.per_class {train, val, test} is applied already (to the file lists)


def load_data(data: Data, seed: int | Streams, log: Log = lambda _: None, channels: int | None = None,
              info: Log = lambda _: None) -> DataBundle:
    """The train/val/test splits a recipe's `data:` section describes.

    `channels=3` makes grayscale images RGB (pretrained backbones expect three channels).
    `log` gets warnings (skipped files), `info` what was found and how it is loaded.
    """
    streams = streams_of(seed)  # a stream per purpose (data/streams.py)
    pools = _pools(data, streams, log, info)
    if isinstance(data.per_class, PerClassSplits) and not pools.drawn:
        _draw_pools(pools, data.per_class, streams)
    train, val, test, split_note = _split(pools, data, streams)
    if isinstance(data.per_class, int):
        chosen = _per_class(train.y, data.per_class, len(pools.classes), streams.seed_for("per_class"))
        train = train.subset(chosen)
    image_channels = 1 if data.grayscale else (3 if train.x is None else int(train.x.shape[1]))
    out_channels = PRETRAINED_CHANNELS if channels == PRETRAINED_CHANNELS else image_channels
    if channels == PRETRAINED_CHANNELS and not train.streamed:
        train, val = _rgb(train), _rgb(val)
        test = _rgb(test) if test is not None else None
    bundle = DataBundle(train, val, test, pools.classes, out_channels, data.image_size, streams=streams.scheme)
    bundle.description = describe(pools, bundle, split_note, data, bundle.streamed)
    return bundle


def _rgb(images: ImageSet) -> ImageSet:
    if images.x is None or images.x.shape[1] == 3:
        return images
    return ImageSet(images.y, x=images.x.expand(-1, 3, -1, -1).contiguous(), names=images.names)  # no
    # image_size: these pixels are not what decoding the files gives (preflight/print_cache.py's key)


def _per_class(y: torch.Tensor, count: int, classes: int, seed: int) -> torch.Tensor:
    """Indices of `count` labelled training images per class (the small-data case), by `seed` (its stream)."""
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    keep = torch.cat([order[y[order] == c][:count] for c in range(classes)])
    return keep.sort().values


def _draw_pools(pools: Pools, spec: PerClassSplits, streams: Streams) -> None:
    """data.per_class {train, val, test} on decoded sets, in place."""
    from cnn_tui.data.per_class import draw_sets

    names = {"train": "the training set", "val": "the validation set", "test": "the test set"}
    seed = streams.seed
    drawn = draw_sets({"train": pools.train, "val": pools.val, "test": pools.test}, spec, pools.classes,
                      streams.seed_for("per_class_draw"), names)
    train = drawn["train"]
    assert train is not None
    if pools.test is None and drawn["test"] is not None:
        pools.test_origin = f"drawn per class from the training data with the seed ({seed})"
    pools.train, pools.val, pools.test = train, drawn["val"], drawn["test"]
    pools.origin += f", {spec} per class drawn with the seed"
    pools.drawn = True


def _drawn_files(parts: dict[str, tuple[list[str], list[int]] | None], data, classes: list[str], streams: Streams,
                 folders: dict[str, str]) -> tuple[dict[str, tuple[list[str], list[int]] | None], str, str]:
    """data.per_class {train, val, test} on file lists: (parts, origin note, test origin)."""
    from cnn_tui.data.per_class import draw_files

    if not isinstance(data.per_class, PerClassSplits):
        return parts, "", ""
    drawn = draw_files(parts, data.per_class, classes, streams.seed_for("per_class_draw"), folders)
    test_origin = f"drawn per class from the training data with the seed ({streams.seed})" \
        if parts.get("test") is None and drawn["test"] is not None else ""
    return drawn, f", {data.per_class} per class drawn with the seed", test_origin


def _split(pools: Pools, data, streams: Streams) -> tuple[ImageSet, ImageSet, ImageSet | None, str]:
    """Carve val (and test, with data.test_split) out of the training pool where no folder gives them."""
    train, val, test, notes = pools.train, pools.val, pools.test, []
    if test is None and data.test_split is not None:
        rest, held = split_indices(len(train), data.test_split, streams.seed_for("test_split"))
        train, test = train.subset(rest.sort().values), train.subset(held.sort().values)
        notes.append(f"test_split {data.test_split:g}")
        pools.test_origin = f"held out from the training data with the seed ({streams.seed})"
    if val is None:
        train_idx, val_idx = split_indices(len(train), data.val_split, streams.seed_for("split"))
        train, val = train.subset(train_idx), train.subset(val_idx)
        notes.append(f"val_split {data.val_split:g}")
    if data.limit is not None:
        train = train.subset(torch.arange(min(len(train), data.limit)))
        if test is not None and len(test) > data.limit:
            keep = torch.randperm(len(test), generator=streams.generator("test_limit"))[: data.limit]
            test = test.subset(keep.sort().values)
    return train, val, test, ", ".join(notes)


def describe(pools: Pools, bundle: DataBundle, split_note: str, data, streamed: bool) -> str:
    """One line: where the splits came from, their sizes, the classes ("splits from folders: ...")."""
    sizes = f"train {len(bundle.train):,} / val {len(bundle.val):,}"
    if bundle.test is not None:
        sizes += f" / test {len(bundle.test):,}"
    names = pools.classes if len(pools.classes) <= 8 else pools.classes[:8] + ["..."]
    line = f"{pools.origin}: {sizes}"
    if split_note:
        line += f" ({split_note})"
    line += f", {len(pools.classes)} classes: {', '.join(names)}"
    if bundle.test is None:
        line += "; no test split (add a test/ folder or data.test_split for a final test score)"
    elif pools.test_origin:
        line += f"; test set: {pools.test_origin}"
    if streamed:
        line += f"; streamed from disk by {data.workers} worker(s)"
    return line


# ------------------------------------------------------------------ sources

def _pools(data, seed: Streams, log: Log, info: Log) -> Pools:
    if data.dataset == "shapes":
        return _shapes(data, seed)
    if data.dataset == "lfw_faces":
        x, y, names = _lfw_faces()
        return Pools(names, ImageSet(y, x=_fit(x, data)), origin="lfw_faces (200 images)")
    if data.dataset in TORCHVISION_SETS:
        return _torchvision(data, log)
    if data.dataset == "oxford_pet":
        return _oxford_pet(data, seed, log, info)
    return _image_folder(data, seed, log, info)


def _shapes(data, seed: Streams) -> Pools:
    cfg = data.shapes
    pixels, labels = shapes.generate(cfg.num_train + cfg.num_val, data.image_size, cfg.classes, cfg.noise,
                                     seed.seed_for("shapes"))
    x, y = torch.from_numpy(pixels), torch.from_numpy(labels)
    if data.grayscale:
        x = _fit(x, data)
    n = cfg.num_train
    return Pools(list(cfg.classes), ImageSet(y[:n], x=x[:n]), ImageSet(y[n:], x=x[n:]),
                 origin="generated shapes")


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


def _torchvision(data, log: Log) -> Pools:
    """MNIST, Fashion-MNIST, CIFAR: torchvision parses the files; its official test set is the test split."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, TORCHVISION_SETS[data.dataset])
    root = os.path.expanduser(data.root)
    if data.loader == "stream":
        log(f"data.loader: stream is for image files; torchvision holds {cls.__name__} in memory itself")

    def part(train: bool) -> tuple[ImageSet, list[str]]:
        try:
            ds = cls(root, train=train, download=data.download)
        except Exception as exc:  # torchvision raises RuntimeError, URLError, OSError, ...
            raise _unavailable(cls.__name__, root, exc) from None
        x = ds.data if isinstance(ds.data, torch.Tensor) else torch.from_numpy(np.asarray(ds.data))
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
        y = torch.as_tensor(ds.targets, dtype=torch.int64)
        return ImageSet(y, x=_fit(x.contiguous(), data)), [str(c) for c in ds.classes]

    train, classes = part(train=True)
    test, _ = part(train=False)
    return Pools(classes, train, test=test, origin=f"{cls.__name__} from {root}",
                 test_origin=f"the official {cls.__name__} test set")


def _decoded_bytes(count: int, data) -> float:
    return count * (1 if data.grayscale else 3) * data.image_size**2


def _streaming(count: int, data) -> bool:
    """Whether `count` image files stream from disk; memory explicitly asked above the limit is refused."""
    need = _decoded_bytes(count, data) / 1e9
    if data.loader == "stream":
        return True
    if need <= data.max_memory_gb:
        return False
    if data.loader == "memory":
        raise DataError(
            f"data.loader: {count:,} images at {data.image_size}px need {need:.1f} GB in memory, over "
            f"data.max_memory_gb ({data.max_memory_gb:g}); use data.loader: stream (or auto), lower "
            f"image_size, set data.limit, or raise max_memory_gb"
        )
    return True


def _file_pools(parts: dict[str, tuple[list[str], list[int]] | None], classes: list[str], data,
                field: str, log: Log, info: Log, origin: str, test_origin: str = "", drawn: bool = False) -> Pools:
    """Image files per split -> Pools, decoded into memory (through the cache) or left to stream."""
    present = {k: v for k, v in parts.items() if v is not None}
    total = sum(len(files) for files, _ in present.values())
    streamed = _streaming(total, data)
    sets: dict[str, ImageSet | None] = {"train": None, "val": None, "test": None}
    if streamed:
        sets.update(_file_sets(present, data))
        info(f"data.loader: streaming {total:,} images from disk "
             f"({_decoded_bytes(total, data) / 1e9:.1f} GB decoded; data.max_memory_gb {data.max_memory_gb:g})")
    else:
        files = [f for fs, _ in present.values() for f in fs]
        x, kept = load_images_cached(files, data.image_size, data.grayscale, data.on_corrupt, field, log,
                                     data.decode_cache, info)
        labels = torch.tensor([label for _, ls in present.values() for label in ls], dtype=torch.int64)
        which = torch.cat([torch.full((len(fs),), i) for i, (fs, _) in enumerate(present.values())])
        kept_t = torch.tensor(kept, dtype=torch.int64)
        _refuse_unreadable_classes(present, kept, classes, field)
        for i, name in enumerate(present):
            mine = (which[kept_t] == i).nonzero().flatten()  # one contiguous run: the splits are in order
            if len(mine) == 0:
                raise DataError(f"{field}: none of the {name} images could be read")
            first, last = int(mine[0]), int(mine[-1]) + 1
            sets[name] = ImageSet(labels[kept_t[first:last]], x=x[first:last],  # a view, not a copy
                                  names=[files[k] for k in kept[first:last]], image_size=data.image_size,
                                  grayscale=data.grayscale)
    train = sets["train"]
    assert train is not None
    return Pools(classes, train, sets["val"], sets["test"], origin=origin, test_origin=test_origin, drawn=drawn)


def _refuse_unreadable_classes(parts: dict[str, tuple[list[str], list[int]]], kept: list[int],
                               classes: list[str], field: str) -> None:
    """A class whose image files all failed to decode (on_corrupt: skip) would train as a class
    with no examples: refused, naming the class and where its files are."""
    readable: set[tuple[str, int]] = set()
    offset, kept_set = 0, set(kept)
    for name, (files, labels) in parts.items():
        readable.update((name, label) for i, label in enumerate(labels) if offset + i in kept_set)
        offset += len(files)
    for name, (files, labels) in parts.items():
        for label in sorted(set(labels)):
            if (name, label) not in readable:
                mine = [f for f, lab in zip(files, labels) if lab == label]
                where = os.path.commonpath(mine) if len(mine) > 1 else os.path.dirname(mine[0])
                split = f" ({name})" if len(parts) > 1 else ""
                raise DataError(f"{field}: class {classes[label]}{split} has {len(mine):,} image file(s) in "
                                f"{where}{os.sep}, none readable (e.g. {mine[0]}); replace them or remove them")


def _file_sets(parts: dict[str, tuple[list[str], list[int]]], data) -> dict[str, ImageSet]:
    return {name: ImageSet(torch.tensor(labels, dtype=torch.int64), files=list(files),
                           image_size=data.image_size, grayscale=data.grayscale)
            for name, (files, labels) in parts.items()}


def preview(data, seed: int | Streams) -> str:
    """What a run would find, without decoding an image: the description line of `load_data`
    (for image folders, from file names; counts before unreadable files are skipped), and a
    second line with what the folder scan skipped, if anything."""
    if data.dataset != "image_folder":
        where = {"shapes": "generated shapes", "lfw_faces": "lfw_faces from scikit-image"}.get(
            data.dataset, f"{data.dataset} from {data.root}")
        official = data.dataset in (*TORCHVISION_SETS, "oxford_pet")
        scored = ("the official test set gives the final test score" if official
                  else "a final test score with data.test_split" if data.test_split is None
                  else f"test_split {data.test_split:g} held out for the final test score")
        return f"{where}; {scored}"
    streams = streams_of(seed)
    pools = _image_folder(data, streams, lambda _m: None, lambda _m: None, decode=False)
    train, val, test, note = _split(pools, data, streams)
    bundle = DataBundle(train, val, test, pools.classes, 0, data.image_size)
    total = len(pools.train) + sum(len(s) for s in (pools.val, pools.test) if s is not None)
    line = describe(pools, bundle, note, data, _streaming(total, data))
    return f"{line}\n{pools.scan_note}" if pools.scan_note else line


def _oxford_pet(data, seed: Streams, log: Log, info: Log) -> Pools:
    """Oxford-IIIT Pet with its binary cats-vs-dogs target; its official test split is the test set."""
    import torchvision.datasets as tvd

    root = os.path.expanduser(data.root)
    parts: dict[str, tuple[list[str], list[int]] | None] = {"train": None, "test": None}
    for split, name in (("trainval", "train"), ("test", "test")):
        try:
            ds = tvd.OxfordIIITPet(root, split=split, target_types="binary-category", download=data.download)
        except Exception as exc:
            raise _unavailable("OxfordIIITPet", root, exc) from None
        # file names and labels without decoding every image (torchvision keeps them in these lists)
        pairs = [(str(path), int(label)) for path, label in zip(ds._images, ds._bin_labels)]
        if data.limit is not None:  # keep decoding time proportional to what is used
            order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))
            cap = int(data.limit / (1 - data.val_split)) + 1 if name == "train" else data.limit
            pairs = [pairs[i] for i in sorted(order[:cap].tolist())]
        parts[name] = ([p for p, _ in pairs], [label for _, label in pairs])
    parts, note, _ = _drawn_files(parts, data, ["cat", "dog"], seed,
                                  {"train": "the trainval split", "test": "the official test split"})
    return _file_pools(parts, ["cat", "dog"], data, "data.root", log, info,
                       origin=f"OxfordIIITPet from {root}{note}", test_origin="the official Oxford-IIIT Pet test split",
                       drawn=bool(note))


def _image_folder(data, seed: Streams, log: Log, info: Log, decode: bool = True) -> Pools:
    """ROOT/<class>/<image>, ROOT/{train,val,test}/<class>/<image>, or explicit split folders."""
    from cnn_tui.data.folder_scan import scan

    layout = scan(data)
    parts = {name: (s.files, s.labels) if s is not None else None
             for name, s in (("train", layout.train), ("val", layout.val), ("test", layout.test))}
    if layout.origin == "flat":
        origin = f"one folder of {'images named by class' if layout.by_name else 'class folders'} {layout.root}"
    else:
        named = "/ ".join(s.folder.name for s in (layout.train, layout.val, layout.test) if s is not None)
        origin = f"splits from folders {named}/ in {layout.root}" if layout.origin == "split folders" \
            else "splits from data.train_path/val_path/test_path"
        if layout.ignored:
            origin += f" (ignored: {', '.join(layout.ignored)})"
        if layout.by_name:
            origin += ", classes from file names"
    field = "data.path" if layout.origin != "paths" else "data.train_path"
    folders = {name: f"{s.folder}" for name, s in (("train", layout.train), ("val", layout.val),
                                                   ("test", layout.test)) if s is not None}
    parts, drawn, test_origin = _drawn_files(parts, data, layout.classes, seed, folders)
    origin += drawn
    note = layout.skipped.line()
    if not decode:
        sets = _file_sets({k: v for k, v in parts.items() if v is not None}, data)
        return Pools(layout.classes, sets["train"], sets.get("val"), sets.get("test"), origin=origin,
                     test_origin=test_origin, scan_note=note, drawn=bool(drawn))
    if note:
        log(note)
    return _file_pools(parts, layout.classes, data, field, log, info, origin=origin, test_origin=test_origin,
                       drawn=bool(drawn))
