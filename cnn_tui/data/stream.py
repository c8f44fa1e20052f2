"""Batches streamed from image files, for datasets larger than memory.

A torch DataLoader's worker processes decode and resize each file to uint8 (the same
`load_image` as the in-memory path, so both see identical pixels); the batch is pinned,
moved `non_blocking`, and augmented and normalised on the device by the same BatchPrep.
The order is `epoch_order(seed, epoch)` and an epoch can start at any batch index, so a
resumed run reads exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset, Sampler

from cnn_tui.contract.errors import DataError
from cnn_tui.data.batches import WHOLE, BatchPrep, Shard, batches_per_epoch, epoch_order
from cnn_tui.data.images import load_image
from cnn_tui.data.streams import Streams


class ImageSet(Protocol):
    """What streaming reads of a split (data/bundle.py's ImageSet, which imports this module to
    decode: described here rather than imported, so the two modules form no import cycle)."""

    y: torch.Tensor
    x: torch.Tensor | None
    files: list[str] | None
    image_size: int
    grayscale: bool

    def __len__(self) -> int: ...

UNREADABLE = (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError)


class FileImages(Dataset):
    """Item i: (C x S x S uint8 array or None if unreadable, label). A missing file raises:
    a dataset that vanishes mid-run must fail the run, not train on nothing."""

    def __init__(self, files: list[str], labels: list[int], size: int, grayscale: bool) -> None:
        self.files, self.labels, self.size, self.grayscale = files, labels, size, grayscale

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[np.ndarray | None, int]:
        try:
            return load_image(self.files[index], self.size, self.grayscale), self.labels[index]
        except FileNotFoundError:
            raise
        except UNREADABLE:
            return None, self.labels[index]


def collate(items: list[tuple[np.ndarray | None, int]]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(uint8 images, labels, how many were unreadable and left out)."""
    good = [(a, label) for a, label in items if a is not None]
    if not good:
        return torch.zeros(0, dtype=torch.uint8), torch.zeros(0, dtype=torch.int64), len(items)
    x = torch.from_numpy(np.stack([a for a, _ in good]))
    return x, torch.tensor([label for _, label in good], dtype=torch.int64), len(items) - len(good)


class _EpochSampler(Sampler):
    """Yields the index lists of the owner's current epoch from its current start batch
    (it runs in the training process, when a pass begins)."""

    def __init__(self, owner: StreamBatches) -> None:
        self.owner = owner

    def __iter__(self) -> Iterator[list[int]]:
        owner = self.owner
        order = epoch_order(owner.num_samples, owner.seed, owner.current_epoch, owner.train)
        for index in owner.shard.batch_numbers(owner.start_batch, len(owner), owner.train):
            yield owner.shard.indices(order, index, owner.batch_size, owner.train).tolist()

    def __len__(self) -> int:
        owner = self.owner
        return len(owner.shard.batch_numbers(owner.start_batch, len(owner), owner.train))


def _loader(dataset: Dataset, batch_sampler, workers: int, pin: bool = False) -> DataLoader:
    # A generator of its own: each new iterator draws a worker base seed, which must not come
    # from the global RNG that dropout uses (or streaming would change the training itself).
    # Workers live for one pass (an epoch, a validation): persistent ones would outlive the run
    # inside the process that started it; starting two forked workers costs ~0.1 s a pass.
    return DataLoader(dataset, batch_sampler=batch_sampler, num_workers=workers, collate_fn=collate,
                      pin_memory=pin, prefetch_factor=2 if workers > 0 else None, generator=torch.Generator())


class StreamBatches:
    """The TensorBatches contract (len, num_samples, order, epoch) over files on disk."""

    def __init__(self, images: ImageSet, batch_size: int, mean: torch.Tensor, std: torch.Tensor,
                 device: torch.device, *, train: bool, augment=None, seed: int | Streams = 0,
                 max_batches: int | None = None, channels_last: bool = False, channels: int | None = None,
                 workers: int = 2, on_skipped: Callable[[str], None] = lambda _m: None,
                 shard: Shard = WHOLE) -> None:
        assert images.files is not None
        self.images = images
        self.batch_size, self.device, self.train = batch_size, device, train
        self.seed, self.max_batches, self.shard = seed, max_batches, shard
        self.prep = BatchPrep(mean, std, device, train=train, augment=augment, seed=seed,
                              channels_last=channels_last, channels=channels, shard=shard,
                              batch_size=batch_size, count=len(images))
        self.current_epoch, self.start_batch = 0, 0
        self.skipped, self.on_skipped = 0, on_skipped
        dataset = FileImages(images.files, images.y.tolist(), images.image_size, images.grayscale)
        self.loader = _loader(dataset, _EpochSampler(self), workers, pin=device.type == "cuda")

    def __len__(self) -> int:
        return batches_per_epoch(len(self.images), self.batch_size, self.train, self.max_batches, self.shard)

    @property
    def num_samples(self) -> int:
        return len(self.images)

    def order(self, epoch: int) -> torch.Tensor:
        return epoch_order(self.num_samples, self.seed, epoch, self.train)

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.current_epoch, self.start_batch = epoch, start_batch
        numbers = iter(self.shard.batch_numbers(start_batch, len(self), self.train))
        for (x, y, bad), index in zip(_reraising(self.loader), numbers):
            if bad:
                self._skipped(bad)
            # non_blocking: the copy from pinned memory overlaps the previous step's kernels
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            yield (self.prep(x, epoch, index) if len(y) else x), y

    def _skipped(self, count: int) -> None:
        first = self.skipped == 0
        self.skipped += count
        if first:
            self.on_skipped(f"skipped an unreadable image while streaming ({count} in this batch); "
                            "unreadable images are left out of their batch and counted")


def _reraising(loader: DataLoader) -> Iterator:
    """One pass; a file that vanished mid-run (worker FileNotFoundError) becomes one clear DataError.
    Leaving the pass early (a stop request) shuts its workers down at once."""
    passing = iter(loader)
    try:
        yield from passing
    except FileNotFoundError as exc:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
        raise DataError(f"data: an image file disappeared mid-run ({last}); "
                        "the run stops here and keeps its last checkpoint") from None
    finally:
        del passing  # its __del__ stops the worker processes


def uint8_batches(images: ImageSet, batch_size: int,
                  workers: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Every readable image once, in order, as (uint8 images, labels) batches (feature extraction)."""
    if images.x is not None:
        yield from zip(images.x.split(batch_size), images.y.split(batch_size))
        return
    assert images.files is not None
    dataset = FileImages(images.files, images.y.tolist(), images.image_size, images.grayscale)
    indices = list(range(len(dataset)))
    sampler = [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]
    for x, y, _bad in _reraising(_loader(dataset, sampler, workers)):
        yield x, y


def make_batches(images: ImageSet, batch_size: int, mean: torch.Tensor, std: torch.Tensor,
                 device: torch.device, *, train: bool, channels: int, workers: int = 2,
                 on_skipped: Callable[[str], None] = lambda _m: None, **options):
    """TensorBatches for a split in memory, StreamBatches for one on disk (same contract)."""
    from cnn_tui.data.batches import TensorBatches

    if images.x is not None:
        return TensorBatches(images.x, images.y, batch_size, mean, std, device, train=train, **options)
    return StreamBatches(images, batch_size, mean, std, device, train=train, channels=channels,
                         workers=workers, on_skipped=on_skipped, **options)
