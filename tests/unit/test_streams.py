"""The recipe seed's random streams (data/streams.py): one per purpose, none shared."""

from __future__ import annotations

import itertools

import pytest
import torch

from cnn_tui.data.batches import BatchPrep, epoch_order
from cnn_tui.data.streams import CURRENT, LEGACY, PURPOSES, Streams

INDEXED = {"shuffle": 1, "augment": 2, "dropout": 1}  # how many indices a purpose takes (epoch, batch, rank)


def every_seed(streams: Streams) -> dict[tuple, int]:
    seeds = {}
    for purpose in PURPOSES:
        for index in itertools.product(range(4), repeat=INDEXED.get(purpose, 0)):
            seeds[(purpose, *index)] = streams.seed_for(purpose, *index)
    return seeds


@pytest.mark.parametrize("seed", [0, 3, 7919])
def test_no_two_purposes_batches_epochs_or_ranks_share_a_stream(seed):
    seeds = every_seed(Streams(seed))
    assert len(set(seeds.values())) == len(seeds)
    first_draws = {torch.randint(0, 2**62, (1,), generator=Streams(seed).generator(p, *i)).item()
                   for p, *i in seeds}
    assert len(first_draws) == len(seeds)


def test_streams_differ_between_seeds_and_repeat_for_one():
    assert every_seed(Streams(1)) == every_seed(Streams(1))
    assert not set(every_seed(Streams(1)).values()) & set(every_seed(Streams(2)).values())


def test_the_legacy_scheme_is_the_old_offsets_collisions_included():
    """What runs of an earlier cnn-tui drew: resumed, they go on with it (tests/unit/test_old_runs.py)."""
    old = Streams(3, LEGACY)
    assert old.seed_for("augment", 0, 0) == old.seed_for("per_class") == 4  # the collision the new scheme ends
    assert old.seed_for("split") == old.seed_for("init") == 3 and old.seed_for("shuffle", 2) == 3 * 7919 + 2
    assert old.dropout_seed(0, distributed=False) is None and old.dropout_seed(1, distributed=True) == 4
    assert Streams(3, CURRENT).dropout_seed(0, distributed=False) is not None


def test_the_batches_draw_from_their_streams():
    streams = Streams(5)
    assert torch.equal(epoch_order(50, streams, 1, True), torch.randperm(50, generator=streams.generator("shuffle", 1)))
    assert not torch.equal(epoch_order(50, streams, 1, True), epoch_order(50, streams, 2, True))
    from cnn_tui.recipes.schema import Augment

    prep = BatchPrep(torch.zeros(3), torch.ones(3), torch.device("cpu"), train=True, seed=streams,
                     augment=Augment(hflip=True, crop_padding=2))
    x = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8)
    assert torch.equal(prep(x, 0, 1), prep(x, 0, 1)) and not torch.equal(prep(x, 0, 1), prep(x, 0, 2))


def test_an_unknown_purpose_is_refused():
    with pytest.raises(ValueError, match="no random stream"):
        Streams(0).seed_for("weather")
