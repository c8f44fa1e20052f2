"""A dataset as the trainer sees it: train, val and an optional test split, each either decoded
uint8 tensors in memory or image files decoded as batches stream (larger than memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ImageSet:
    """One split. Exactly one of `x` (uint8, N x C x H x W) and `files` is set."""

    y: torch.Tensor  # int64 labels
    x: torch.Tensor | None = None
    files: list[str] | None = None
    image_size: int = 0  # the square size files are decoded to (streamed; in memory: when decoded from names)
    grayscale: bool = False
    names: list[str] | None = None  # in memory: the file each image was decoded from (reports name it), if any

    def __len__(self) -> int:
        return len(self.y)

    @property
    def streamed(self) -> bool:
        return self.files is not None

    def subset(self, index: torch.Tensor) -> ImageSet:
        if self.x is not None:
            names = [self.names[i] for i in index.tolist()] if self.names is not None else None
            return ImageSet(self.y[index], x=self.x[index], names=names, image_size=self.image_size,
                            grayscale=self.grayscale)
        assert self.files is not None
        return ImageSet(self.y[index], files=[self.files[i] for i in index.tolist()],
                        image_size=self.image_size, grayscale=self.grayscale)

    def head(self, count: int) -> torch.Tensor:
        """The first `count` images as uint8 (decoded if streamed): a sample for statistics."""
        if self.x is not None:
            return self.x[:count]
        from cnn_tui.data.images import load_images

        assert self.files is not None
        x, _ = load_images(self.files[:count], self.image_size, self.grayscale, "skip", "data.path",
                           lambda _m: None)
        return x


@dataclass
class DataBundle:
    train: ImageSet
    val: ImageSet
    test: ImageSet | None
    class_names: list[str]
    channels: int
    image_size: int
    description: str = ""  # what was found: the splits, their sizes, the classes, where the test set is
    streams: int = 2  # the scheme of random streams its splits were drawn with (data/streams.py)

    @property
    def streamed(self) -> bool:
        return self.train.streamed
