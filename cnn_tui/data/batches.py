"""Mini-batches from in-memory uint8 tensors: shuffle, move, scale, augment, normalise.

For data that fits in memory (data/stream.py streams the rest): no worker processes, no
per-image Python work.
Shuffling and augmentation draw from the recipe seed's streams for (epoch) and (epoch, batch)
(data/streams.py), so any batch can be reproduced exactly after a resume without saving loader state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from cnn_tui.data.augment import augment_batch
from cnn_tui.data.streams import Streams, streams_of


def epoch_order(count: int, seed: int | Streams, epoch: int, train: bool) -> torch.Tensor:
    """The order of an epoch's examples: a function of (seed, epoch) only, so resume is exact."""
    if not train:
        return torch.arange(count)
    return torch.randperm(count, generator=streams_of(seed).generator("shuffle", epoch))


@dataclass(frozen=True)
class Shard:
    """This process's part of the data in a data-parallel run of `size` processes.

    Training: global batch i is order[i*B*size:(i+1)*B*size] (one process's batch B times the
    processes) and rank r takes its r-th slice of B, so the ranks' batches of a step together are
    the global batch. Evaluation: rank r takes batches r, r+size, ... (the counts are summed)."""

    rank: int = 0
    size: int = 1

    def indices(self, order: torch.Tensor, index: int, batch_size: int, train: bool) -> torch.Tensor:
        if not train or self.size == 1:
            return order[index * batch_size:(index + 1) * batch_size]
        start = (index * self.size + self.rank) * batch_size
        return order[start:start + batch_size]

    def batch_numbers(self, start: int, count: int, train: bool) -> range:
        return range(start, count) if train or self.size == 1 else range(start + self.rank, count, self.size)

    def window(self, index: int, batch_size: int, count: int) -> tuple[int, int] | None:
        """(offset, size) of this rank's slice within training batch `index` of the global batch."""
        if self.size == 1:
            return None
        whole = min(batch_size * self.size, count - index * batch_size * self.size)
        return self.rank * batch_size, whole


WHOLE = Shard()


def batches_per_epoch(count: int, batch_size: int, train: bool, max_batches: int | None,
                      shard: Shard = WHOLE) -> int:
    step = batch_size * shard.size if train else batch_size
    full = count // step if train else -(-count // step)
    full = max(full, 1)  # a training set smaller than one batch still gives one batch
    return min(full, max_batches) if max_batches else full


class BatchPrep:
    """uint8 batch on the device -> scaled, augmented (training), normalised float batch."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, device: torch.device, *, train: bool,
                 augment=None, seed: int | Streams = 0, channels_last: bool = False, channels: int | None = None,
                 shard: Shard = WHOLE, batch_size: int = 0, count: int = 0):
        self.mean = mean.to(device).view(1, -1, 1, 1)
        self.std = std.to(device).view(1, -1, 1, 1)
        self.augment = augment if train and _any_augment(augment) else None
        self.streams = streams_of(seed)
        self.channels_last = channels_last
        self.channels = channels  # grayscale batches are repeated to this many channels
        self.shard, self.batch_size, self.count = shard, batch_size, count  # for the augmentation window

    def __call__(self, x: torch.Tensor, epoch: int, index: int) -> torch.Tensor:
        x = x.float().div_(255.0)
        if self.channels is not None and x.shape[1] != self.channels:
            x = x.expand(-1, self.channels, -1, -1)
        if self.augment is not None:
            generator = self.streams.generator("augment", epoch, index)
            x = augment_batch(x, self.augment, generator, self.shard.window(index, self.batch_size, self.count))
        x = x.sub(self.mean).div_(self.std)  # one temporary, not two: batches can be large
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


class TensorBatches:
    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        device: torch.device,
        *,
        train: bool,
        augment=None,
        seed: int | Streams = 0,
        max_batches: int | None = None,
        channels_last: bool = False,
        shard: Shard = WHOLE,
    ) -> None:
        on_device = device.type != "cpu" and x.numel() < 1_000_000_000  # < 1 GB of uint8
        self.x = x.to(device) if on_device else x
        self.y = y.to(device) if on_device else y
        self.batch_size = batch_size
        self.device = device
        self.train = train
        self.seed = seed
        self.max_batches = max_batches
        self.shard = shard
        self.prep = BatchPrep(mean, std, device, train=train, augment=augment, seed=seed,
                              channels_last=channels_last, shard=shard, batch_size=batch_size, count=len(y))
        self.images = x.dtype == torch.uint8  # else: precomputed feature vectors, used as they are

    def __len__(self) -> int:
        return batches_per_epoch(len(self.y), self.batch_size, self.train, self.max_batches, self.shard)

    @property
    def num_samples(self) -> int:
        return len(self.y)

    def order(self, epoch: int) -> torch.Tensor:
        return epoch_order(len(self.y), self.seed, epoch, self.train)

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order(epoch)
        for index in self.shard.batch_numbers(start_batch, len(self), self.train):
            idx = self.shard.indices(order, index, self.batch_size, self.train)
            if self.x.device != idx.device:
                idx = idx.to(self.x.device)
            y = self.y[idx].to(self.device, non_blocking=True)
            if not self.images:
                yield self.x[idx].to(self.device, non_blocking=True), y
                continue
            yield self.prep(self.x[idx].to(self.device, non_blocking=True), epoch, index), y


def _any_augment(cfg) -> bool:
    return cfg is not None and bool(cfg.in_words())


def channel_stats(x: torch.Tensor, enabled: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and (unbiased) std of uint8 images on a 0..1 scale (identity if not enabled).

    Sums in float64 over chunks of ~64 MB: a float copy of the whole sample would need eight
    times its uint8 size (3 GB for 2,000 images at 256 px)."""
    channels = x.shape[1]
    if not enabled:
        return torch.zeros(channels), torch.ones(channels)
    sample = x
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    per_chunk = max(1, 2**23 // max(1, sample[0].numel()))  # ~64 MB of float64 at a time
    for chunk in sample.split(per_chunk):
        values = chunk.to(torch.float64).div_(255.0)
        total += values.sum(dim=(0, 2, 3))
        squares += values.square().sum(dim=(0, 2, 3))
    n = sample.shape[0] * sample.shape[2] * sample.shape[3]
    mean = total / n
    var = (squares - n * mean.square()) / max(n - 1, 1)
    return mean.float(), var.clamp_min(0).sqrt().float().clamp_min(1e-3)
