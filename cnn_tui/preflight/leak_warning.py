"""The leakage check at the start of a run: a recipe whose validation or test split shares images
with training gets a warning line and a diagnosis before the first step, since every val/test
number it will report is inflated (the same check as `validate --data`, preflight/leakage.py).

It runs on the data the run has already loaded: images held in memory are hashed and shrunk to
thumbnails in place (a fraction of a second for tens of thousands of small images). A streamed
folder would have to be decoded once more just for this, so above MAX_STREAMED_FILES images the
check is skipped with a note pointing to `validate --data`, unless their fingerprints are cached
beside the decoded images by an earlier check (preflight/print_cache.py). Near copies need every
val/test thumbnail against every training one: above MAX_NEAR_PAIRS pairs (e.g. 20,000 x 10,000)
the run checks exact copies only, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnn_tui.contract.events import Diagnosis, Event, Log
from cnn_tui.contract.status import Severity

MAX_STREAMED_FILES = 2_000  # a streamed run decodes at most this many images again for the check
MAX_NEAR_PAIRS = 2 * 10**8  # train x val thumbnails compared at the start of a run (~100 GFLOP, seconds)
CODE = "leakage"


@dataclass
class LeakCheck:
    """What the check found, as the events the run emits once it has started."""

    events: list[Event] = field(default_factory=list)
    leaked: bool = False


def split_leaks(splits: dict[str, Any], workers: int = 0, cache_dir: str | None = None,
                max_pairs: int | None = None) -> list[Any]:
    """Every pair of splits (train first), as leakage.Shared: one source for `validate --data` and
    the run's check. Streamed splits' fingerprints are cached in `cache_dir` (preflight/print_cache.py)."""
    from cnn_tui.preflight.leakage import shared
    from cnn_tui.preflight.print_cache import split_prints

    prints = {name: split_prints(images, workers, cache_dir) for name, images in splits.items()}
    names = list(splits)
    return [shared(a, prints[a], b, prints[b], near=max_pairs is None or len(splits[a]) * len(splits[b]) <= max_pairs)
            for i, a in enumerate(names) for b in names[i + 1:]]


def check_before_training(data: Any, workers: int = 0, cache_dir: str | None = None) -> LeakCheck:
    """The run's leakage check on a loaded DataBundle (train, val and, if any, test); streamed
    splits whose fingerprints are cached in `cache_dir` (the decode cache) do not count to the limit."""
    from cnn_tui.preflight.print_cache import is_cached

    splits = {name: s for name, s in (("train", data.train), ("val", data.val), ("test", data.test))
              if s is not None}
    check = LeakCheck()
    if "train" not in splits or len(splits) < 2:
        return check
    streamed = sum(len(s) for s in splits.values() if s.streamed and not is_cached(s, cache_dir))
    if streamed > MAX_STREAMED_FILES:
        check.events.append(Log(level="info", message=(
            f"leakage check skipped: {streamed:,} streamed images (more than {MAX_STREAMED_FILES:,} would be decoded "
            "again); `cnn-tui validate RECIPE --data` checks them")))
        return check
    if len(splits["train"]) * max(len(s) for n, s in splits.items() if n != "train") > MAX_NEAR_PAIRS:
        check.events.append(Log(level="info", message=(
            "leakage check: exact copies only at the start of a run on splits this large; "
            "`cnn-tui validate RECIPE --data` also finds resized or re-encoded copies")))
    found = [s for s in split_leaks(splits, workers, cache_dir, MAX_NEAR_PAIRS)
             if s.a == "train" and (s.exact or s.near)]
    if not found:
        return check
    check.leaked = True
    said = "; ".join(f"{s.b} shares {len(s.exact)} exact and {len(s.near)} near copies with train" for s in found)
    check.events.append(Log(level="warning", message=(
        f"leakage warning: {said}: every {'/'.join(s.b for s in found)} number this run reports is inflated "
        "(`cnn-tui validate RECIPE --data` lists them)")))
    check.events.append(Diagnosis(code=CODE, severity=Severity.WARNING, step=0, epoch=0, message=(
        f"{said}: images the model trains on are also scored as unseen, so accuracy and loss on them are "
        "inflated; remove the copies from one side")))
    return check
