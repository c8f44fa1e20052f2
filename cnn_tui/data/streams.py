"""Random streams, one per purpose, all from the recipe's one `seed`.

Each purpose (which images go to which split, the per-class draws, each epoch's shuffle, each
batch's augmentation, the initial weights, dropout, the generated shapes, the style image's start)
gets its own seed, split from the recipe's seed the way numpy's `SeedSequence` spawns children: the
purpose and its indices (epoch, batch, rank) are the spawn key, hashed with the seed into 64 bits.
No two purposes (nor two batches, epochs or ranks) share a stream, and one seed still fixes them all.

Scheme 1 (`LEGACY`) is how runs drew before: small offsets of the seed, which collided (the epoch-0
batch-0 augmentation used the seed of the per-class subset draw, the init and the split the seed
itself). New runs use scheme 2; a checkpoint records its scheme (`streams`), and a run resumed from
a checkpoint without one (an earlier cnn-tui's) goes on with scheme 1, so it keeps its own split,
data order and augmentations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

LEGACY, CURRENT = 1, 2
PURPOSES = ("split", "test_split", "test_limit", "per_class", "per_class_draw", "shuffle", "augment", "init",
            "dropout", "shapes", "style_net", "style_init")
_EPOCH_STRIDE = 1_000_003  # scheme 1's augmentation: seed + epoch * stride + batch + 1


def _legacy(seed: int, purpose: str, index: tuple[int, ...]) -> int:
    offsets = {"split": seed, "per_class": seed + 1, "test_split": seed + 2, "test_limit": seed + 3,
               "per_class_draw": seed + 4, "init": seed, "shapes": seed, "style_net": seed, "style_init": seed}
    if purpose == "shuffle":
        return seed * 7919 + index[0]
    if purpose == "augment":
        return seed + index[0] * _EPOCH_STRIDE + index[1] + 1
    if purpose == "dropout":
        return seed + index[0]
    return offsets[purpose]


@dataclass(frozen=True)
class Streams:
    seed: int  # the recipe's
    scheme: int = CURRENT

    def seed_for(self, purpose: str, *index: int) -> int:
        """The seed of `purpose`'s stream (for one epoch, batch or rank: `index`)."""
        if purpose not in PURPOSES:
            raise ValueError(f"no random stream for {purpose!r}")
        if self.scheme == LEGACY:
            return _legacy(self.seed, purpose, index)
        key = (PURPOSES.index(purpose), *index)
        return int(np.random.SeedSequence(self.seed, spawn_key=key).generate_state(1, np.uint64)[0])

    def generator(self, purpose: str, *index: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed_for(purpose, *index))

    def dropout_seed(self, rank: int, distributed: bool) -> int | None:
        """The global generator's seed once the model is built (dropout draws from it); None: go on
        from the init (scheme 1's single process)."""
        if self.scheme == LEGACY and not distributed:
            return None
        return self.seed_for("dropout", rank)


def streams_of(seed: int | Streams) -> Streams:
    """A plain int is a recipe seed drawn with the current scheme."""
    return seed if isinstance(seed, Streams) else Streams(seed)
