"""`data.per_class: {train, val, test}`: the course's small subset drawn from a full dataset.

Chollet's dogs-vs-cats experiment keeps 1,000 training, 500 validation and 500 test images per
class out of Kaggle's 25,000. The draw is by class (so the subset is balanced even where the
folder is not: Oxford-IIIT Pet is 1 cat to 2 dogs), disjoint, and fixed by the recipe's seed; for
image files it happens on the file list, before anything is decoded.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cnn_tui.contract.errors import DataError
from cnn_tui.data.bundle import ImageSet
from cnn_tui.recipes.schema import PerClassSplits

SPLITS = ("train", "val", "test")
Plan = dict[str, tuple[str, list[int]] | None]  # split -> (the pool it is drawn from, indices there)


def _draw(labels: Sequence[int], wants: dict[str, int], classes: list[str], seed: int,
          pool: str) -> dict[str, list[int]]:
    """Disjoint indices into `labels`, wants[split] per class for each split, by `seed` (the draw's stream)."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed)).tolist()
    by_class: list[list[int]] = [[] for _ in classes]
    for i in order:
        by_class[labels[i]].append(i)
    need = sum(wants.values())
    for name, found in zip(classes, by_class):
        if len(found) < need:
            asked = " + ".join(f"{split} {count:,}" for split, count in wants.items())
            total = f" = {need:,}" if len(wants) > 1 else ""
            fix = f"data.per_class.{next(iter(wants))} to at most" if len(wants) == 1 \
                else "data.per_class so that the splits add up to at most"
            raise DataError(f"data.per_class: {asked}{total} images per class, but class '{name}' has "
                            f"{len(found):,} in {pool}; lower {fix} {len(found):,}")
    drawn, start = {}, 0
    for split, count in wants.items():
        drawn[split] = sorted(i for found in by_class for i in found[start:start + count])
        start += count
    return drawn


def plan(labels: dict[str, Sequence[int] | None], spec: PerClassSplits, classes: list[str], seed: int,
         pools: dict[str, str]) -> Plan:
    """Which images each split keeps. A split with its own pool (a val/ or test/ folder, an
    official test set) is drawn from it; one without is drawn from the training pool, disjoint from
    train. `pools` names each pool for the refusal ("the folder ~/data/train")."""
    train_labels = labels["train"]
    assert train_labels is not None
    wants = {"train": spec.train, "val": spec.val, "test": spec.test}
    from_train = {s: n for s, n in wants.items() if n is not None and (s == "train" or labels.get(s) is None)}
    drawn = _draw(train_labels, from_train, classes, seed, pools["train"])
    chosen: Plan = {s: ("train", idx) for s, idx in drawn.items()}
    for split in ("val", "test"):
        own = labels.get(split)
        if split in chosen:
            continue
        if own is None:
            chosen[split] = None
        elif wants[split] is None:
            chosen[split] = (split, list(range(len(own))))
        else:
            count = wants[split]
            assert count is not None
            chosen[split] = (split, _draw(own, {split: count}, classes, seed, pools[split])[split])
    return chosen


def draw_files(parts: dict[str, tuple[list[str], list[int]] | None], spec: PerClassSplits, classes: list[str],
               seed: int, pools: dict[str, str]) -> dict[str, tuple[list[str], list[int]] | None]:
    """The same draw on file lists (files, labels) per split, before decoding."""
    chosen = plan({s: p[1] if p else None for s, p in parts.items()}, spec, classes, seed, pools)
    out: dict[str, tuple[list[str], list[int]] | None] = {}
    for split in SPLITS:
        pick = chosen.get(split)
        source = parts[pick[0]] if pick else None
        out[split] = ([source[0][i] for i in pick[1]], [source[1][i] for i in pick[1]]) \
            if pick and source else None
    return out


def draw_sets(sets: dict[str, ImageSet | None], spec: PerClassSplits, classes: list[str], seed: int,
              pools: dict[str, str]) -> dict[str, ImageSet | None]:
    """The same draw on decoded image sets (generated and torchvision datasets)."""
    chosen = plan({s: v.y.tolist() if v is not None else None for s, v in sets.items()}, spec, classes, seed, pools)
    out: dict[str, ImageSet | None] = {}
    for split in SPLITS:
        pick = chosen.get(split)
        source = sets[pick[0]] if pick else None
        out[split] = source.subset(torch.tensor(pick[1], dtype=torch.int64)) if pick and source else None
    return out
